"""``tess-sim activity …``: activity files from recordings (``from-npz``). Kept light (click
only); each subcommand's module is loaded when it is used (:mod:`.lazy`)."""

from __future__ import annotations

import click

from tess_sim.commands.lazy import LazyGroup, Table

#: subcommand -> (its click command, the first paragraph of its help)
ACTIVITY: Table = {
    "from-npz": ("tess_sim.commands.activity_npz:from_npz",
                 "Turn a recording RECORDING.npz of WORKLOAD's network (the input and each spiking block's 0/1 "
                 "spikes [T, batch, ...], optionally its pre-reset membranes <block>.membrane) into an exact "
                 "activity CSV, usable as `activity: {source: file, path: …}`. For example:"),
}


@click.group(name="activity", cls=LazyGroup, lazy=ACTIVITY)
def activity():
    """Activity files: turn recorded spike tensors into an exact activity CSV (from-npz)."""
