"""The analytical engine: sums every Work of every rule program in closed form (instant)."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.ledger import make_ledger
from tess_sim.simulator.rules import Rule
from tess_sim.simulator.placement import place, touched, with_memory
from tess_sim.simulator.workload import Hardware, Precision

PAPER_BITS = 32  # the paper counts 4-byte values


def bits_of(prec: str, precision: Precision) -> int:
    """Bit width of a precision key under the hardware's precision table (``fp32`` = 32)."""
    return PAPER_BITS if prec == "fp32" else int(getattr(precision, prec))


def full_rows(rule: Rule, works, precision: Precision, batch: int) -> list[tuple]:
    """Ledger rows of the ``full`` convention: the rule's ``works`` (``rule.works(act)``, or the
    pieces an engine executed) summed, then the rule's held state."""
    totals: dict[tuple, float] = defaultdict(float)
    for work in works:
        for unit, action, prec, term, n in work.total(batch):
            totals[(work.layer, work.phase, unit, action, bits_of(prec, precision), term)] += n
    rows = [("full", rule.name, layer, phase, unit, action, n, bits, term)
            for (layer, phase, unit, action, bits, term), n in totals.items()]
    holds: dict[tuple, float] = defaultdict(float)
    for h in rule.state():
        holds[(h.layer, h.unit, bits_of(h.prec, precision), h.term)] += h.elements
    rows += [("full", rule.name, layer, "state", unit, "hold", n, bits, term)
             for (layer, unit, bits, term), n in holds.items() if n]
    return rows


def paper_rows(rule: Rule) -> list[tuple]:
    """Ledger rows of the ``paper`` convention: learning-signal MACs and the fitted memory."""
    rows = [("paper", rule.name, layer, phase, "pe", "mac", n, PAPER_BITS, term)
            for layer, phase, term, n in rule.paper_macs()]
    rows += [("paper", rule.name, h.layer, "state", h.unit, "hold", h.elements, PAPER_BITS, h.term)
             for h in rule.paper_memory()]
    return rows


def run_analytical(rules: list[Rule], act: ActivityProfile, precision: Precision,
                   batch: int) -> pd.DataFrame:
    """The ledger of every rule, both conventions."""
    rows: list[tuple] = []
    for rule in rules:
        rows += paper_rows(rule) + full_rows(rule, rule.works(act), precision, batch)
    return make_ledger(rows)


def run_placed(rules: list[Rule], act: ActivityProfile, hw: Hardware, batch: int,
               where: str = "hardware") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ledger with its ``memory`` column (spills by ``hw.spill``) and the placement."""
    rows: list[tuple] = []
    touch: dict = {}
    for rule in rules:
        works = rule.works(act)
        rows += paper_rows(rule) + full_rows(rule, works, hw.precision, batch)
        touch.update(touched(rule.name, works, rule.state(), rule.net.T, batch,
                             lambda prec: bits_of(prec, hw.precision)))
    raw = make_ledger(rows)
    placement = place(raw, hw, where)
    paper = raw[raw["convention"] == "paper"].assign(memory="")
    return pd.concat([paper, with_memory(raw, placement, hw, touch)], ignore_index=True), placement
