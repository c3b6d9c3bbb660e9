"""``tess-sim export nir``: a workload's network and weights as a NIR graph (.nir)."""

from __future__ import annotations

import click
import numpy as np

from tess_sim.api import load
from tess_sim.commands.options import overrides, set_option
from tess_sim.outputs import checked_output
from tess_sim.simulator.atomic import write_bytes
from tess_sim.simulator.errors import UserError, exit_2_on_user_error
from tess_sim.simulator.functional.golden import load_weights
from tess_sim.simulator.functional.standardise import effective_weights
from tess_sim.simulator.measured.inputs import make_weights
from tess_sim.simulator.network import build_network
from tess_sim.simulator.nir_export import graph_bytes, network_to_graph
from tess_sim.simulator.nir_graph import CONVENTION_EXPORT


@click.command("nir")
@click.argument("workload", metavar="WORKLOAD")
@click.option("--out", "out_path", required=True, type=click.Path(), help="The .nir file to write.")
@click.option("--weights", "weights_path", type=click.Path(dir_okay=False), default=None,
              help="W.npz to export (e.g. a trained weights_<rule>.npz); default: the workload's own "
                   "(network.nir's, else the seeded training.init initialisation, as `tess-sim data npz`).")
@click.option("--dt", type=float, default=1e-4, show_default=True,
              help="Seconds per time step written into the graph (snnTorch's NIR import assumes 1e-4).")
@click.option("--approximate-reset", is_flag=True,
              help="Export a subtractive reset as NIR's reset to 0 (an approximation; each layer it changes is "
                   "named in the output). Without it such a layer is refused.")
@set_option
@exit_2_on_user_error
@checked_output("out_path", "file")
def export_nir(workload, out_path, weights_path, dt, approximate_reset, sets):
    """Write WORKLOAD's network and weights (--weights W.npz, else its seeded initialisation) as
    the NIR graph --out, for snnTorch, Norse, SpikingJelly, Lava, Rockpool, …: Conv2d / Affine /
    Linear + LIF (tau = dt/(1 - beta), r = tau/dt, v_threshold = theta, reset to 0; docs/nir.md),
    AvgPool2d, Flatten. What NIR 1.0 cannot express (max-pool, the subtractive reset) is refused,
    naming the layer. For example:

    \b
      tess-sim export nir workloads/small.yaml --out small.nir --set neuron.reset=zero
      tess-sim export nir my.yaml --out trained.nir --weights out/my/weights_tess.npz --dt 1e-3
    """
    if not (dt > 0 and dt < float("inf")):
        raise UserError("--dt", "", f"must be a positive number of seconds, got {dt}")
    wl = load(workload, None, overrides(sets))
    where = wl.source or str(workload)
    net = build_network(wl, where)
    if weights_path is not None:
        weights, desc = load_weights(weights_path, net), f"weights {weights_path}"
    else:
        weights, desc = make_weights(wl)
    eff, _ = effective_weights(net, weights, np.float64)  # what each layer computes with (W_eff if standardised)
    graph, notes = network_to_graph(net, eff, dt, where, approximate_reset)
    data = graph_bytes(graph, where)
    click.echo(f"neurons: {CONVENTION_EXPORT.format(dt=dt)}")
    click.echo(f"weights: {desc}")
    click.echo("nodes: " + " -> ".join(f"{n} ({type(v).__name__})" for n, v in graph.nodes.items()))
    for note in notes:
        click.echo(note if note.startswith("approximation") else f"note: {note}")
    write_bytes(out_path, data)
    click.echo(f"wrote {out_path}: {len(graph.nodes)} nodes, {len(graph.edges)} edges, {len(data):,} bytes")
