"""``tess-sim data synth``: a seeded synthetic event dataset in a real dataset layout."""

from __future__ import annotations

import click

from tess_sim.commands.data import in_range
from tess_sim.outputs import new_folder
from tess_sim.simulator.errors import UserError, exit_2_on_user_error
from tess_sim.simulator.events import synthetic

#: limits of ``data synth`` (a larger request is refused up front rather than run for hours)
MAX_SAMPLES = 10_000
MAX_DURATION_US = 60_000_000
MAX_TOTAL_US = 600_000_000      # all samples together: 10 minutes of recording (about 1 GB)


@click.command("synth")
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
    in_range("--samples", samples, 1, MAX_SAMPLES)
    in_range("--seed", seed, 0)
    in_range("--classes", classes, 1, synthetic.MAX_CLASSES[layout])
    in_range("--duration-us", duration_us, 1, MAX_DURATION_US)
    in_range("--gap-us", gap_us, 0, MAX_DURATION_US)
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
