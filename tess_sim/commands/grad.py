"""``tess-sim grad``: the golden model's weight gradients of one mini-batch."""

from __future__ import annotations

import click
import numpy as np

from tess_sim.api import load
from tess_sim.commands.options import overrides, set_option
from tess_sim.outputs import checked_output
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.errors import exit_2_on_user_error as user_errors
from tess_sim.simulator.functional.golden import (check_finite_gradients, compute_gradients, load_data, load_weights,
                                                  save_npz_atomic)
from tess_sim.simulator.measured.bridge import rule_params
from tess_sim.simulator.network import build_network


@click.command("grad")
@click.argument("workload", metavar="WORKLOAD")
@click.option("--weights", "weights_path", required=True, type=click.Path(dir_okay=False),
              help="W.npz: one array per weighted layer keyed by its name (conv [C_out,C_in,k,k], "
                   "linear/readout [out,in]), biases under <name>.bias.")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False),
              help="D.npz: x [T, batch, *input_shape] (float) and labels [batch] (int).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="G.npz to write.")
@click.option("--rule", default=None, help="bptt | stllr | tess | readout (default: the workload's "
              "only rule; required when it has several).")
@click.option("--trace", is_flag=True, help="Add per-step membranes, traces and learning signals.")
@set_option
@user_errors
@checked_output("out_path", "file")
def grad_cmd(workload, weights_path, data_path, out_path, rule, trace, sets):
    """Golden model: the weight gradients of one mini-batch (float64), exactly as docs/math.md —
    BPTT the gradient of CE(softmax(Σ_t y[t])); S-TLLR / TESS the sum over the learning window of
    the per-step local gradients, readout included — plus spikes [n_blocks, T]. To make a W.npz
    and a D.npz for WORKLOAD: tess-sim data npz WORKLOAD --weights W.npz --data D.npz."""
    wl = load(workload, None, overrides(sets))
    enabled = list(wl.rules.enabled())
    if rule is None:
        if len(enabled) != 1:
            raise UserError("--rule", "", f"the workload enables {', '.join(enabled)}: choose one with --rule")
        rule = enabled[0]
    if rule not in enabled + ["readout"]:
        raise UserError("--rule", "", f"unknown or disabled rule '{rule}' (enabled: {', '.join(enabled)}, readout)")
    net = build_network(wl)
    w = load_weights(weights_path, net)
    x, labels = load_data(data_path, net, wl.input.T)
    g = compute_gradients(net, rule, rule_params(wl, rule), w, x, labels, np.float64, trace)
    check_finite_gradients(g, data_path, weights_path)
    save_npz_atomic(out_path, g)
    click.echo(f"wrote {out_path}: rule {rule}, {len(w)} weight arrays, batch {x.shape[1]}, T = {x.shape[0]}"
               + (", with traces" if trace else ""))
