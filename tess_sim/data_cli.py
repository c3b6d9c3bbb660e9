"""``tess-sim data …`` commands (a click group the main CLI attaches with ``add_command``)."""

from __future__ import annotations

import click

from tess_sim.simulator.errors import UserError, exit_2_on_user_error

#: limits of ``data synth`` (a larger request is refused up front rather than run for hours)
MAX_SAMPLES = 10_000
MAX_DURATION_US = 60_000_000
MAX_TOTAL_US = 600_000_000      # all samples together: 10 minutes of recording (about 1 GB)


@click.group(name="data")
def data():
    """Event-camera data: inspect recordings and dataset folders (info), write synthetic
    datasets (synth), and write a workload's W.npz / D.npz for `tess-sim grad` (npz)."""


@data.command("info")
@click.argument("path", type=click.Path())
@exit_2_on_user_error
def info(path):
    """Describe PATH: a recording (.aedat AEDAT 3.1 / AER-DAT 2.0, .npy) or a dataset folder —
    events, duration, event rate, pixel range, classes."""
    from tess_sim.simulator.events.info import describe

    click.echo(describe(path))


def _in_range(name: str, value: int | None, lo: int, hi: int | None = None) -> None:
    if value is not None and (value < lo or (hi is not None and value > hi)):
        bound = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
        raise UserError(name, "", f"must be {bound}, got {value}")


@data.command("synth")
@click.argument("out", type=click.Path())
@click.option("--layout", type=click.Choice(["dvsgesture", "cifar10dvs", "npy"]),
              default="dvsgesture", show_default=True,
              help="dvsgesture: AEDAT 3.1 recordings of up to 11 gestures with label CSVs; "
                   "cifar10dvs: AER-DAT 2.0 class folders (CIFAR-10 class names); npy: class "
                   "folders of .npy event arrays.")
@click.option("--samples", type=int, default=11, show_default=True,
              help=f"Number of labelled samples (gestures or files), 1..{MAX_SAMPLES}.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Generator seed: equal seeds give identical files.")
@click.option("--classes", type=int, default=None,
              help="Use the first K classes (default all: 11 motions, 10 for cifar10dvs).")
@click.option("--duration-us", type=int, default=None,
              help="µs per sample (default 300000, as data: {format: synthetic}).")
@click.option("--gap-us", type=int, default=None,
              help="µs of noise between gestures (dvsgesture; default 50000).")
@exit_2_on_user_error
def synth(out, layout, samples, seed, classes, duration_us, gap_us):
    """Write seeded synthetic DVS recordings to the new folder OUT in a real dataset layout —
    the same files `data: {format: synthetic, layout: …}` generates and reads back. OUT
    appears complete or not at all. For example:

    \b
      tess-sim data synth gestures --layout dvsgesture --samples 22 --seed 1
      tess-sim data info gestures
      # then in a workload:  data: {format: dvsgesture, root: gestures}
    """
    from tess_sim.simulator.events import synthetic
    from tess_sim.new_folder import new_folder

    _in_range("--samples", samples, 1, MAX_SAMPLES)
    _in_range("--seed", seed, 0)
    _in_range("--classes", classes, 1, synthetic.MAX_CLASSES[layout])
    _in_range("--duration-us", duration_us, 1, MAX_DURATION_US)
    _in_range("--gap-us", gap_us, 0, MAX_DURATION_US)
    if gap_us is not None and layout != "dvsgesture":
        raise UserError("--gap-us", "", "only applies to --layout dvsgesture")
    dur = synthetic.DURATION_US if duration_us is None else duration_us
    gap = synthetic.GAP_US if gap_us is None else gap_us
    total = samples * (dur + (gap if layout == "dvsgesture" else 0))
    if total > MAX_TOTAL_US:
        raise UserError("--samples", "", f"{samples} samples of {dur} µs"
                        + (f" + {gap} µs gaps" if layout == "dvsgesture" else "")
                        + f" are {total / 1e6:,.0f} s of recording; the limit is "
                        f"{MAX_TOTAL_US / 1e6:,.0f} s (about 1 GB of events)")
    with new_folder(out) as tmp:
        paths = synthetic.write_layout(tmp, layout, samples, seed, dur, gap, classes)
    k = classes or synthetic.MAX_CLASSES[layout]
    click.echo(f"wrote {out}: {layout} layout, {samples} samples of {dur} µs, {k} classes, "
               f"seed {seed}, {len(paths)} recording file" + ("s" if len(paths) != 1 else ""))
    click.echo(f"use it as  data: {{format: {layout}, root: {out}}}   (tess-sim data info {out})")


@data.command("npz")
@click.argument("workload", type=click.Path())
@click.option("--weights", "weights_path", type=click.Path(), default=None,
              help="W.npz to write: the workload's initialisation (training.init), one array "
                   "per weighted layer keyed by its name, biases under <name>.bias.")
@click.option("--data", "data_path", type=click.Path(), default=None,
              help="D.npz to write: x [T, batch, *input_shape] (float32) and labels [batch] "
                   "from the workload's data section (no data section: synthetic).")
@click.option("--samples", type=int, default=None,
              help="Batch size of D.npz (default: input.batch).")
@click.option("--seed", type=int, default=None,
              help="Seed of the initialisation and the samples (default: training.seed).")
@exit_2_on_user_error
def npz(workload, weights_path, data_path, samples, seed):
    """Write W.npz and/or D.npz for WORKLOAD in the formats `tess-sim grad --weights/--data`
    (and activity.weights / activity.data) read: W.npz the seeded training.init
    initialisation, D.npz `batch` samples of the workload's data. Everything is made before
    anything is written; each file is written atomically. For example:

    \b
      tess-sim data npz workloads/small.yaml --weights W.npz --data D.npz
      tess-sim grad workloads/small.yaml --weights W.npz --data D.npz --out G.npz --rule tess
    """
    from tess_sim.simulator.measured.inputs import make_data, make_weights, save_checked

    if weights_path is None and data_path is None:
        raise UserError("npz", "", "nothing to write: give --weights W.npz and/or --data D.npz")
    _in_range("--samples", samples, 1)
    _in_range("--seed", seed, 0)
    from tess_sim.api import load

    wl = load(workload)
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

if __name__ == "__main__":  # pragma: no cover
    data()
