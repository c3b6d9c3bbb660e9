"""What spills: buffers that do not fit their SRAM, and BPTT's largest T whose history fits.

Reads the placement table of :func:`simulator.placement.place` (rows in SRAM fill order).
"""

from __future__ import annotations

import math

import pandas as pd

from tess_sim.simulator.placement import chip_capacity
from tess_sim.simulator.vocab import MB
from tess_sim.simulator.workload import Hardware



def spilled(placement: pd.DataFrame, rule: str) -> pd.DataFrame:
    """The rule's buffer kinds with spilled bytes > 0."""
    p = placement[(placement["rule"] == rule) & (placement["spilled_bytes"] > 0)]
    return p.reset_index(drop=True)


def spill_note(placement: pd.DataFrame, rule: str) -> str:
    """One line: ``weights 8.77 of 8.82 MB -> dram; …`` or ``everything on chip``."""
    p = spilled(placement, rule)
    if p.empty:
        return "everything on chip"
    return "; ".join(f"{r.unit} {r.spilled_bytes / MB:.3g} of {r.bytes / MB:.3g} MB -> {r.spill_memory}"
                     for r in p.itertuples())


def history_max_T(placement: pd.DataFrame, hw: Hardware, T: int, rule: str = "bptt") -> int | None:
    """Largest T at which the rule's ``history`` buffer (linear in T: T × per-step bytes) still fits
    entirely in its home memory (:func:`simulator.placement.chip_capacity`: every core's copy),
    given the buffers placed before it there; None without a history
    or when its home is a DRAM (unbounded)."""
    p = placement[placement["rule"] == rule].reset_index(drop=True)
    hist = p[p["unit"] == "history"]
    if hist.empty:
        return None
    i = hist.index[0]
    home = hist.iloc[0]["memory"]
    mem = next(m for m in hw.memories if m.name == home)
    if mem.kind == "dram":
        return None
    before = p.iloc[:i]
    room = chip_capacity(hw, mem) - before[before["memory"] == home]["on_chip_bytes"].sum()
    per_step = hist.iloc[0]["bytes"] / T
    return int(math.floor(room / per_step + 1e-9)) if per_step > 0 else None
