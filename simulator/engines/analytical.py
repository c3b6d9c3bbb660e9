"""The analytical engine: sums every Work of every rule program in closed form (instant), places
the buffers on the hardware (:mod:`simulator.placement`, as the SimPy engine does) and states a
compute-bound time per sample (:func:`estimate_seconds`) for the cost models' leakage."""

from __future__ import annotations

import pandas as pd

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.placement import place, with_memory
from tess_sim.simulator.rules import Rule
from tess_sim.simulator.rules.program import Work
from tess_sim.simulator.workload import Hardware, Precision
from tess_sim.simulator.engines.mapped import Mapper, map_all
from tess_sim.simulator.engines.rows import raw_ledger, touched_rows

#: the basis of :func:`estimate_seconds`, as every output labels the leakage priced over it
ESTIMATE = "estimate: ops / (pe.units × cores) / clock"


def run_analytical(rules: list[Rule], act: ActivityProfile, precision: Precision,
                   batch: int) -> pd.DataFrame:
    """The ledger of every rule, both conventions, without a ``memory`` column."""
    return raw_ledger(rules, {rule.name: rule.works(act) for rule in rules}, precision, batch)


def run_placed(rules: list[Rule], act: ActivityProfile, hw: Hardware, batch: int,
               where: str = "hardware", mapper: Mapper | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, dict[str, float]]:
    """The ledger with its ``memory`` column (spills by ``hw.spill``), the placement
    (:data:`simulator.placement.PLACEMENT_COLUMNS`), on a ``mapped`` core the mapping of every
    contraction (:data:`simulator.engines.mapped.MAPPING_COLUMNS`; None otherwise), and the gated
    ops per rule (:func:`gated_ops`)."""
    works = {rule.name: rule.works(act) for rule in rules}
    placement = place(raw_ledger(rules, works, hw.precision, batch), hw, where)
    works, mappings = map_all(rules, works, hw, placement, mapper)
    raw = raw_ledger(rules, works, hw.precision, batch)
    ledger = with_memory(raw, placement, hw, touched_rows(rules, works, hw.precision, batch))
    return ledger, placement, mappings, gated_ops(works, batch)


def gated_ops(works: dict[str, list[Work]], batch: int) -> dict[str, float]:
    """Per rule, the ops per sample its PEs step over on a zero operand under ``pe.zero: gate``
    (:attr:`~simulator.rules.program.Count.gated`: cycles, no energy; not in the ledger), the
    contractions a mapper timed excluded."""
    out = {}
    for rule, ws in works.items():
        n = 0.0
        for w in ws:
            scale = 1.0 / batch if w.direction == "batch" else 1.0
            n += sum(float(c.gated_per_step.sum()) * scale for c in w.gated)
        out[rule] = n
    return out


def estimate_seconds(ledger: pd.DataFrame, hw: Hardware, gated: dict[str, float] | None = None) -> dict[str, float]:
    """Seconds per sample per rule of the ledger (``full`` convention) if one op ran on every PE of
    every core each cycle: Σ ops / (pe.units × cores) / clock (:data:`ESTIMATE`), the ``gated``
    ops per rule (:func:`gated_ops`: a gated op takes its cycle) included. It ignores memory
    stalls, idle lanes and ``cycles_per_<op>``; the SimPy engine simulates the time."""
    full = ledger[ledger["convention"] == "full"]
    o = full[full["unit"] == "pe"]
    ops = o.groupby("rule", sort=False)["count"].sum()
    for rule, n in (gated or {}).items():
        ops[rule] = ops.get(rule, 0.0) + n
    secs = ops / (hw.pe.units * hw.cores) / (hw.clock_mhz * 1e6)
    return {rule: float(secs.get(rule, 0.0)) for rule in dict.fromkeys(full["rule"])}
