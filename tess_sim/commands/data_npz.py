"""``tess-sim data npz``: a workload's W.npz / D.npz in the formats ``tess-sim grad`` reads."""

from __future__ import annotations

import click

from tess_sim.api import load
from tess_sim.commands.data import in_range
from tess_sim.commands.options import overrides, set_option
from tess_sim.simulator.errors import UserError, exit_2_on_user_error
from tess_sim.simulator.measured.inputs import make_data, make_weights, save_checked


@click.command("npz")
@click.argument("workload", type=click.Path())
@click.option("--weights", "weights_path", type=click.Path(), default=None,
              help="W.npz to write: the workload's initialisation (training.init), one array "
                   "per weighted layer keyed by its name, biases under <name>.bias, the gains of "
                   "weight-standardised layers under <name>.gain.")
@click.option("--data", "data_path", type=click.Path(), default=None,
              help="D.npz to write: x [T, batch, *input_shape] (float32) and labels [batch] "
                   "from the workload's data section (no data section: synthetic).")
@click.option("--samples", type=int, default=None,
              help="Batch size of D.npz (default: input.batch).")
@click.option("--seed", type=int, default=None,
              help="Seed of the initialisation and the samples (default: training.seed).")
@set_option
@exit_2_on_user_error
def npz(workload, weights_path, data_path, samples, seed, sets):
    """Write W.npz and/or D.npz for WORKLOAD in the formats `tess-sim grad --weights/--data`
    (and activity.weights / activity.data) read: W.npz the seeded training.init
    initialisation, D.npz `batch` samples of the workload's data. Everything is made before
    anything is written; each file is written atomically. For example:

    \b
      tess-sim data npz workloads/small.yaml --weights W.npz --data D.npz
      tess-sim grad workloads/small.yaml --weights W.npz --data D.npz --out G.npz --rule tess
    """
    if weights_path is None and data_path is None:
        raise UserError("npz", "", "nothing to write: give --weights W.npz and/or --data D.npz")
    in_range("--samples", samples, 1)
    in_range("--seed", seed, 0)
    wl = load(workload, None, overrides(sets))
    out = []                                      # everything is made before anything is written
    if weights_path is not None:
        w, desc = make_weights(wl, seed)
        out.append((weights_path, w, f"{len(w)} arrays ({desc})"))
    if data_path is not None:
        x, labels, desc = make_data(wl, samples, seed)
        out.append((data_path, {"x": x, "labels": labels},
                    f"x {list(x.shape)}, labels [{len(labels)}] ({desc})"))
    for path, arrays, what in out:
        save_checked(path, arrays)
        click.echo(f"wrote {path}: {what}")
