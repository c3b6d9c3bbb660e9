"""Buffer placement: which memory holds each buffer kind, what spills to DRAM, and which memory
serves each access of the ledger.

Rules (docs/simpy.md):

- ``hardware.placement`` maps a buffer kind to a memory; a kind it does not name goes to the
  first DRAM memory (or, with no DRAM, the last memory listed).
- Buffers placed in the same SRAM fill it in the order of the placement mapping; a buffer that
  does not fit keeps what fits on chip and spills the rest to the first DRAM memory.
- Which memory serves an access depends on ``hardware.spill``:

  * ``streamed`` (default, a tiled core): at each step, a phase of a layer streams the spilled
    part of the slice of the buffer it touches through its SRAM once — DRAM serves
    (1 − f) · min(n_t, E) of the phase's n_t accesses at step t, where E is the layer's slice of
    the buffer (its elements; for BPTT's history, one step's slice) and f the buffer's on-chip
    fraction; the SRAM serves the rest (the re-uses). Under ``schedule: layer_major`` a layer's
    weights stream once per pass of its T steps: (1 − f) · min(Σ_t n_t, E). It needs the per-step counts, which the
    engines have: they pass :func:`touched` to :func:`with_memory`.
  * ``proportional`` (no locality, the pessimistic bound): accesses are spread evenly over the
    buffer's elements, so DRAM serves a fraction 1 − f of every access. It is also what a
    ledger without per-step information (e.g. one read from a file) gets.

Placement is per rule (each rule runs alone on the hardware) and uses the ``full`` ledger's held
state at the hardware's bit widths.

**One placement, one view of the hardware.** Both engines call :func:`place` and
:func:`with_memory` (the only function that adds the ledger's ``memory`` column), and the
complexity curves run the analytical engine, so every figure sees the same placement. An SRAM's
``capacity_bytes`` is *per core*: a multi-core chip has one copy of every SRAM in each core (the
SimPy engine gives each core its own instance, and the cost models price leakage and area
× ``cores``). The chip therefore holds ``cores × capacity_bytes`` of each SRAM, and placement fills
that pool (:func:`chip_capacity`): a buffer kind may use the copies of every core, i.e. buffers
are assumed spread over the cores (no per-core packing: a layer's slice is not tied to the SRAM
of the core its layer is mapped to — docs/simpy.md, Limits). Treating one core's capacity as
the whole chip's would leave cores − 1 copies unused while the engines time them and the cost
models price their leakage. With one core the pool is the memory itself: nothing changes.
DRAMs are shared by every core and have no capacity limit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.ledger import held
from tess_sim.simulator.vocab import BUFFER_KINDS
from tess_sim.simulator.workload import Hardware, Memory, Precision

PLACEMENT_COLUMNS = ["rule", "unit", "memory", "bytes", "on_chip_bytes", "spilled_bytes", "spill_memory"]


def dram_name(hw: Hardware) -> str | None:
    """The first DRAM memory, or None."""
    return next((m.name for m in hw.memories if m.kind == "dram"), None)


def home_of(hw: Hardware, unit: str) -> str:
    """The memory a buffer kind is placed in."""
    if unit in hw.placement:
        return hw.placement[unit]
    return dram_name(hw) or hw.memories[-1].name


def chip_capacity(hw: Hardware, memory: Memory) -> int | None:
    """Bytes of ``memory`` on the whole chip: ``cores × capacity_bytes`` for an SRAM (one copy per
    core, see the module docstring), None (unbounded) for a DRAM."""
    return memory.capacity_bytes * hw.cores if memory.kind == "sram" else None


def place(ledger: pd.DataFrame, hw: Hardware, where: str = "hardware") -> pd.DataFrame:
    """One row per rule and buffer kind: bytes, bytes on chip, bytes spilled (PLACEMENT_COLUMNS),
    from the ``full`` ledger's held rows; SRAMs hold :func:`chip_capacity` bytes."""
    dram = dram_name(hw)
    order = list(hw.placement) + [k for k in BUFFER_KINDS if k not in hw.placement]
    h = held(ledger[ledger["convention"] == "full"])
    sizes = (h["count"] * h["bits"] / 8).groupby([h["rule"], h["unit"]], sort=False).sum()
    rows = []
    for rule in h["rule"].unique():
        free = {m.name: chip_capacity(hw, m) for m in hw.memories}
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


TouchKey = tuple  # (rule, layer, phase, unit, action, bits, term): a ledger row's key


def slices(holds, T: int) -> dict[tuple[str, str, str], float]:
    """Elements of each (layer, unit, prec) buffer slice one step of that layer can touch: the
    held elements (BPTT's history: one step's share, held / T)."""
    out: dict[tuple[str, str, str], float] = {}
    for h in holds:
        key = (h.layer, h.unit, h.prec)
        out[key] = out.get(key, 0.0) + h.elements / (T if h.unit == "history" else 1)
    return out


def slice_of(sl: dict, layer: str, unit: str, prec: str) -> float:
    """The slice a Count of ``layer`` touches: its own (layer, unit, prec) slice, else the
    layer's slice of the unit at any precision, else the whole unit (network-wide buffers)."""
    if (layer, unit, prec) in sl:
        return sl[(layer, unit, prec)]
    same_layer = [v for (lay, u, _), v in sl.items() if lay == layer and u == unit]
    if same_layer:
        return sum(same_layer)
    return sum(v for (_, u, _), v in sl.items() if u == unit)


def per_pass(layer_major: bool, work, unit: str) -> bool:
    """True where a streamed spill touches a slice once per pass, not once per step: the weights
    of a layer-major layer's forward Works (its T steps run back to back)."""
    return layer_major and work.direction == "forward" and unit == "weights"


def touched(rule_name: str, works, holds, T: int, batch: int, precision: Precision,
            layer_major: bool = False) -> dict[TouchKey, float]:
    """Σ over steps of min(accesses at step t, the slice the access touches), per ledger row key:
    what a streamed spill fetches from (or writes back to) DRAM per unit of spilled fraction
    (:func:`per_pass`: min(Σ_t accesses, slice) once over the pass). Keys carry bits at
    ``precision`` (:meth:`Precision.bits`), as in the ledger."""
    sl = slices(holds, T)
    out: dict[TouchKey, float] = {}
    for work in works:
        scale = 1.0 / batch if work.direction == "batch" else 1.0
        for c in work.counts:
            if c.unit == "pe" or c.memory:  # ops, and accesses a mapper placed itself
                continue
            E = slice_of(sl, work.layer, c.unit, c.prec)
            for term, touch in (c.capped_pass(E) if per_pass(layer_major, work, c.unit) else c.capped(E)):
                key = (rule_name, work.layer, work.phase, c.unit, c.action, precision.bits(c.prec), term)
                out[key] = out.get(key, 0.0) + touch * scale
    return out


def with_memory(ledger: pd.DataFrame, placement: pd.DataFrame, hw: Hardware | None = None,
                touched_rows: dict[TouchKey, float] | None = None) -> pd.DataFrame:
    """The ledger with its ``memory`` column filled (the one function that fills it): each ``full``
    access or hold row not yet placed (``memory == ""``) is split between its home memory and the
    DRAM under ``placement`` (see the module docstring for the two spill policies; without
    ``touched_rows`` or with ``hw.spill == "proportional"`` the split is proportional; held
    elements always split by the on-chip fraction); the accesses a mapper placed itself keep their
    memory; op rows and ``paper`` rows (a published convention, not a placement) keep
    ``memory = ""``. Row order: the paper rows, the full ops, the mapped accesses, the on-chip
    shares, the DRAM shares. Counts are conserved: the split rows of one original row sum to it."""
    paper = ledger[ledger["convention"] == "paper"]
    full = ledger[ledger["convention"] == "full"].reset_index(drop=True)
    cols = list(ledger.columns)
    is_op = full["unit"] == "pe"
    mapped = ~is_op & (full["memory"] != "")  # a mapper placed these itself
    acc = full[~is_op & ~mapped].drop(columns="memory").merge(placement[["rule", "unit", "memory", "bytes", "spilled_bytes", "spill_memory"]],
                             on=["rule", "unit"], how="left", validate="many_to_one")
    if acc["bytes"].isna().any():  # every accessed buffer kind is held (a test checks)
        bad = acc[acc["bytes"].isna()].iloc[0]
        raise ValueError(f"{bad['rule']}: buffer '{bad['unit']}' is accessed but never held")
    spilled = (acc["spilled_bytes"] / acc["bytes"]).to_numpy()
    dram = acc["count"].to_numpy() * spilled
    if touched_rows is not None and (hw is None or hw.spill == "streamed"):
        keys = zip(acc["rule"], acc["layer"], acc["phase"], acc["unit"], acc["action"], acc["bits"], acc["term"])
        touch = np.array([touched_rows.get(k, c) for k, c in zip(keys, acc["count"])], dtype=float)
        dram = np.where(acc["action"].to_numpy() == "hold", dram, spilled * touch)
    on_chip = acc.assign(count=acc["count"].to_numpy() - dram)
    off_chip = acc.assign(count=dram, memory=acc["spill_memory"])
    parts = [paper, full[is_op], full[mapped], on_chip[on_chip["count"] > 0][cols], off_chip[off_chip["count"] > 0][cols]]
    return pd.concat(parts, ignore_index=True)[cols]
