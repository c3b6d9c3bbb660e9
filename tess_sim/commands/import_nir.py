"""``tess-sim import nir``: a NIR graph as a workload YAML (and its weights as a W.npz)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import yaml

from tess_sim.api import check
from tess_sim.commands.data import in_range
from tess_sim.outputs import check_file, checked_output
from tess_sim.simulator.atomic import write_text
from tess_sim.simulator.errors import UserError, exit_2_on_user_error
from tess_sim.simulator.measured.inputs import save_checked
from tess_sim.simulator.nir_graph import CONVENTION, graph_to_network, layers_with_overrides, read_graph
from tess_sim.simulator.workload import Neuron, workload_from_dict

def _name(out: str) -> str:
    """A workload name from the output file's stem (only the characters a name may hold)."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", Path(out).stem) or "nir"
    return stem if stem not in (".", "..") else "nir"


def imported_workload(imp, model: str, dt: float, T: int, name: str, encoding: str,
                      weights_ref: str | None) -> dict:
    """The workload mapping of an imported graph: the first spiking layer's neuron as the
    workload's ``neuron``, overrides on the layers that differ, all three rules, dense activity."""
    first = next(iter(imp.neurons.values()))
    neuron = Neuron(beta=first.beta, theta=first.theta, reset="zero")
    desc = f"imported from the NIR graph {model} with dt = {dt:g} s (docs/nir.md)"
    if weights_ref:
        desc += f"; its weights are {weights_ref}"
    return {"name": name, "description": desc,
            "input": {"shape": list(imp.input_shape), "T": T, "classes": imp.classes, "encoding": encoding},
            "neuron": {"beta": first.beta, "theta": first.theta, "reset": "zero"},
            "network": {"layers": layers_with_overrides(imp, neuron)},
            "rules": {"bptt": {}, "stllr": {}, "tess": {}},
            "activity": {"source": "dense"}}


@click.command("nir")
@click.argument("model", metavar="MODEL", type=click.Path(dir_okay=True))
@click.option("--out", "out_path", required=True, type=click.Path(), help="The workload YAML to write.")
@click.option("--weights", "weights_path", type=click.Path(), default=None,
              help="Also write the graph's weights as this W.npz (the format of activity.weights and grad --weights).")
@click.option("--dt", type=float, required=True,
              help="Seconds per time step of the graph's neurons (snnTorch exports with 1e-4).")
@click.option("--T", "T", type=int, required=True, help="Time steps per sample of the workload.")
@click.option("--classes", type=int, default=None,
              help="Check that the readout has this many outputs (default: the readout's outputs).")
@click.option("--name", default=None, help="The workload's name (default: the --out file's stem).")
@click.option("--encoding", type=click.Choice(["spikes", "analog"]), default="spikes", show_default=True,
              help="What the first layer receives.")
@exit_2_on_user_error
@checked_output("out_path", "file")
def import_nir(model, out_path, weights_path, dt, T, classes, name, encoding):
    """Turn the NIR graph MODEL (a .nir file from snnTorch, Norse, SpikingJelly, Lava, Rockpool, …)
    into the workload --out: its layers and neuron parameters (beta = 1 - dt/tau, theta =
    v_threshold·tau/(r·dt), reset to 0; docs/nir.md), and with --weights its weights as a W.npz.
    A node tess-sim cannot express is refused, naming it. For example:

    \b
      tess-sim import nir model.nir --out model.yaml --weights W.npz --dt 1e-4 --T 16
      tess-sim run model.yaml --set activity.source=measured --set activity.weights=W.npz \\
          --set activity.data=D.npz

    Everything is made and checked before anything is written; each file is written atomically.
    A workload can also name the graph itself: network: {nir: model.nir, dt: 1e-4}.
    """
    in_range("--T", T, 1)
    if weights_path is not None:
        check_file(weights_path)
    graph = read_graph(model)
    imp = graph_to_network(graph, dt, str(model))
    if classes is not None and classes != imp.classes:
        raise UserError("--classes", "", f"is {classes}, the graph's readout '{imp.mapping[-1][1]}' has "
                        f"{imp.classes} outputs")
    ref = None
    if weights_path is not None:
        out_dir = Path(out_path).resolve().parent
        w = Path(weights_path).resolve()
        ref = str(w.relative_to(out_dir)) if w.is_relative_to(out_dir) else str(w)
    data = imported_workload(imp, str(model), dt, T, name or _name(out_path), encoding, ref)
    wl = workload_from_dict(data, out_path)           # the schema and the network shapes, before writing
    check(wl, str(out_path))
    header = (f"# Imported by `tess-sim import nir` from {model}.\n"
              f"# Neurons: {CONVENTION.format(dt=dt)}.\n"
              + (f"# Weights: {ref}; measure with them: --set activity.source=measured "
                 f"--set activity.weights={ref} (and a data section or activity.data).\n" if ref else ""))
    text = header + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=110)
    click.echo(f"read {model}: {len(graph.nodes)} nodes, input {list(imp.input_shape)}, {imp.classes} outputs")
    click.echo("neurons: " + CONVENTION.format(dt=dt))
    width = max(len(n) for n, _ in imp.mapping)
    for layer, nodes in imp.mapping:
        n = imp.neurons.get(layer)
        tail = f": {n.nir} -> beta {n.beta:.6g}, theta {n.theta:.6g}" if n else ""
        click.echo(f"  {layer:<{width}} <- {nodes}{tail}")
    for note in imp.notes:
        click.echo(f"note: {note}")
    if weights_path is not None:
        save_checked(weights_path, imp.weights)
    write_text(out_path, text)
    if weights_path is not None:
        click.echo(f"wrote {weights_path}: {len(imp.weights)} arrays ({', '.join(imp.weights)})")
    click.echo(f"wrote {out_path}: {len(data['network']['layers'])} layers, T = {T}, {imp.classes} classes")
