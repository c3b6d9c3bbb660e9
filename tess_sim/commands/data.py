"""``tess-sim data …``: event-camera data (``info``, ``synth``) and a workload's W.npz / D.npz
(``npz``). The group loads each subcommand's module when it is used (:mod:`.lazy`), so that
``data info`` does not import what ``data npz`` needs; kept light (click only)."""

from __future__ import annotations

import click

from tess_sim.commands.lazy import LazyGroup, Table
from tess_sim.simulator.errors import UserError

#: subcommand -> (its click command, the first paragraph of its help)
DATA: Table = {
    "info": ("tess_sim.commands.data_info:info",
             "Describe PATH: a recording (.aedat AEDAT 3.1 / AER-DAT 2.0, .npy, .aedat4 AEDAT 4) or a dataset folder — events, "
             "duration, event rate, pixel range, classes."),
    "npz": ("tess_sim.commands.data_npz:npz",
            "Write W.npz and/or D.npz for WORKLOAD in the formats `tess-sim grad --weights/--data` (and "
            "activity.weights / activity.data) read: W.npz the seeded training.init initialisation, D.npz "
            "`batch` samples of the workload's data. Everything is made before anything is written; each file "
            "is written atomically. For example:"),
    "synth": ("tess_sim.commands.data_synth:synth",
              "Write seeded synthetic DVS recordings to the new folder OUT in a real dataset layout — the same "
              "files `data: {format: synthetic, layout: …}` generates and reads back. OUT appears complete or "
              "not at all. For example:"),
}


@click.group(name="data", cls=LazyGroup, lazy=DATA)
def data():
    """Event-camera data: inspect recordings and dataset folders (info), write synthetic
    datasets (synth), and write a workload's W.npz / D.npz for `tess-sim grad` (npz)."""


def in_range(name: str, value: int | None, lo: int, hi: int | None = None) -> None:
    """Option ``name`` is ``None`` or in ``lo..hi`` (``hi=None``: no upper bound), else a UserError."""
    if value is not None and (value < lo or (hi is not None and value > hi)):
        bound = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
        raise UserError(name, "", f"must be {bound}, got {value}")
