"""Rule programs → ledger rows: what both engines share (neither engine imports the other).

An engine hands in, per rule, the Works it counted — ``rule.works(act)`` for the analytical
engine, the Works the SimPy engine executed piece by piece (equal counts) — and gets the ledger
of :mod:`simulator.ledger`: the ``full`` convention summed per (layer, phase, unit, action, bits)
at the hardware's bit widths (:meth:`simulator.workload.Precision.bits`) plus the rule's held
state, and the ``paper`` convention's rows. Which memory serves each access is added afterwards,
by :func:`simulator.placement.with_memory`, from the same Works (:func:`touched_rows`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import pandas as pd

from tess_sim.simulator.ledger import make_ledger
from tess_sim.simulator.placement import TouchKey, touched
from tess_sim.simulator.rules import Rule
from tess_sim.simulator.rules.program import Work
from tess_sim.simulator.workload import PAPER_BITS, Precision


def full_rows(rule: Rule, works, precision: Precision, batch: int) -> list[tuple]:
    """Ledger rows of the ``full`` convention: the rule's ``works`` (``rule.works(act)``, or the
    pieces an engine executed) summed per term, then the rule's held state."""
    totals: dict[tuple, float] = defaultdict(float)
    for work in works:
        for unit, action, prec, term, memory, n in work.total(batch):
            totals[(work.layer, work.phase, unit, action, precision.bits(prec), term, memory)] += n
    rows = [("full", rule.name, layer, phase, unit, action, n, bits, term, memory)
            for (layer, phase, unit, action, bits, term, memory), n in totals.items()]
    holds: dict[tuple, float] = defaultdict(float)
    for h in rule.state():
        holds[(h.layer, h.unit, precision.bits(h.prec), h.term)] += h.elements
    rows += [("full", rule.name, layer, "state", unit, "hold", n, bits, term, "")
             for (layer, unit, bits, term), n in holds.items() if n]
    return rows


def paper_rows(rule: Rule) -> list[tuple]:
    """Ledger rows of the ``paper`` convention: learning-signal MACs and the fitted memory."""
    rows = [("paper", rule.name, layer, phase, "pe", "mac", n, PAPER_BITS, term, "")
            for layer, phase, term, n in rule.paper_macs()]
    rows += [("paper", rule.name, h.layer, "state", h.unit, "hold", h.elements, PAPER_BITS, h.term, "")
             for h in rule.paper_memory()]
    return rows


def raw_ledger(rules: list[Rule], works: Mapping[str, list[Work]], precision: Precision,
               batch: int) -> pd.DataFrame:
    """The ledger of every rule, both conventions, before placement (the engines' parity ledger:
    ``memory`` is ``""`` except on the accesses a mapper placed itself): per rule its paper rows,
    then its full rows. ``works``: rule name → Works."""
    rows: list[tuple] = []
    for rule in rules:
        rows += paper_rows(rule) + full_rows(rule, works[rule.name], precision, batch)
    return make_ledger(rows)


def touched_rows(rules: list[Rule], works: Mapping[str, list[Work]], precision: Precision,
                 batch: int) -> dict[TouchKey, float]:
    """Per ``full`` ledger row key, Σ over steps of min(accesses at step t, the buffer slice they
    touch) (:func:`simulator.placement.touched`): what a streamed spill fetches from DRAM."""
    out: dict[TouchKey, float] = {}
    for rule in rules:
        out.update(touched(rule.name, works[rule.name], rule.state(), rule.net.T, batch, precision,
                           rule.schedule == "layer_major"))
    return out
