"""Buffer placement: which memory holds each buffer kind, what spills to DRAM, and which memory
serves each access of the ledger.

Rules (SPEC §7):

- ``hardware.placement`` maps a buffer kind to a memory; a kind it does not name goes to the
  first DRAM memory (or, with no DRAM, the last memory listed).
- Buffers placed in the same SRAM fill it in the order of the placement mapping; a buffer that
  does not fit keeps what fits on chip and spills the rest to the first DRAM memory.
- Accesses are assumed spread evenly over a buffer's elements, so a buffer with a fraction f on
  chip has a fraction f of its reads and writes served by its SRAM and 1 − f by the DRAM.

Placement is per rule (each rule runs alone on the hardware) and uses the ``full`` ledger's held
state at the hardware's bit widths.
"""

from __future__ import annotations

import pandas as pd

from .errors import UserError
from .ledger import held
from .workload import BUFFER_KINDS, Hardware

PLACEMENT_COLUMNS = ["rule", "unit", "memory", "bytes", "on_chip_bytes", "spilled_bytes", "spill_memory"]


def dram_name(hw: Hardware) -> str | None:
    """The first DRAM memory, or None."""
    return next((m.name for m in hw.memories if m.kind == "dram"), None)


def home_of(hw: Hardware, unit: str) -> str:
    """The memory a buffer kind is placed in."""
    if unit in hw.placement:
        return hw.placement[unit]
    return dram_name(hw) or hw.memories[-1].name


def place(ledger: pd.DataFrame, hw: Hardware, where: str = "hardware") -> pd.DataFrame:
    """One row per rule and buffer kind: bytes, bytes on chip, bytes spilled (PLACEMENT_COLUMNS)."""
    mem = {m.name: m for m in hw.memories}
    dram = dram_name(hw)
    order = list(hw.placement) + [k for k in BUFFER_KINDS if k not in hw.placement]
    h = held(ledger[ledger["convention"] == "full"])
    sizes = (h["count"] * h["bits"] / 8).groupby([h["rule"], h["unit"]], sort=False).sum()
    rows = []
    for rule in h["rule"].unique():
        free = {name: (m.capacity_bytes if m.kind == "sram" else None) for name, m in mem.items()}
        units = sizes[rule]
        for unit in sorted(units.index, key=lambda u: order.index(u) if u in order else len(order)):
            size = float(units[unit])
            home = home_of(hw, unit)
            cap = free[home]
            on_chip = size if cap is None else min(size, cap)
            if cap is not None:
                free[home] = cap - on_chip
            spilled = size - on_chip
            if spilled > 0 and dram is None:
                raise UserError(where, "memories", f"{rule}: buffer '{unit}' ({size:.0f} B) does not fit "
                                f"in '{home}' and there is no dram memory to spill to")
            rows.append((rule, unit, home, size, on_chip, spilled, dram if spilled > 0 else ""))
    return pd.DataFrame(rows, columns=PLACEMENT_COLUMNS)


def with_memory(ledger: pd.DataFrame, placement: pd.DataFrame) -> pd.DataFrame:
    """The ``full`` ledger with a ``memory`` column: each access or hold row is split between its
    home memory (on-chip fraction) and the DRAM (spilled fraction); op rows get ``memory = ""``.
    Counts are conserved: the split rows of one original row sum to it."""
    full = ledger[ledger["convention"] == "full"]
    p = placement.set_index(["rule", "unit"])
    out = []
    for row in full.itertuples(index=False):
        base = row._asdict()
        if row.unit == "pe":
            out.append({**base, "memory": ""})
            continue
        pl = p.loc[(row.rule, row.unit)]  # every accessed buffer kind is held (a test checks)
        frac = pl["on_chip_bytes"] / pl["bytes"]
        if frac > 0:
            out.append({**base, "count": row.count * frac, "memory": pl["memory"]})
        if frac < 1:
            out.append({**base, "count": row.count * (1 - frac), "memory": pl["spill_memory"]})
    return pd.DataFrame(out, columns=list(ledger.columns) + ["memory"])
