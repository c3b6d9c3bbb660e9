"""The ``mapped`` dataflow (docs/dataflow.md): every tensor contraction a rule program declares
(:class:`~simulator.rules.program.Contraction`) is tiled by the loop-nest mapper
(:mod:`simulator.dataflow.mapper`) over the PEs' register files, the on-chip buffers and the
DRAM; its result replaces the rule's conventional counts of that contraction. Both engines call
:func:`map_rule` on the Works they then count or simulate, so they cannot disagree.

What replaces what, per contraction and step (exactly the tensors and ops the Contraction names,
by (buffer kind, precision, term); every other count of the Work stands):

- accesses: the mapping's per-operand, per-memory reads and writes of one run of the nest
  (``rf``, the operand's buffer, the DRAM for a spilled one), written with their ``memory`` set
  (placement does not split them again), at each step the nest runs. Under ``layer_major`` the
  nest of a forward Work gains the time dimension T (its runs' steps): the mapping is of the
  whole pass (weights can stay put over T) and its counts are spread evenly over those steps.
- ops: dense (every point of the nest) under ``pe.zero: none`` and for ops on dense tensors;
  the rule's own effective count (border-exact spike events × fan-out, or the measured non-zero
  operand pairs of a learning contraction) for ops on a sparse tensor under ``gate`` and ``skip``
  (the rule's gated ops of these terms go with them: the mapping times the nest).
- cycles: the mapping's compute cycles (temporal iterations, spatial padding included; under
  ``skip`` × the step's density of a sparse-only nest) as the Work's ``cycles``, its op Counts
  taking none of their own; memory cycles come from the accesses on each memory's ports.

Buffers: an operand lives where placement puts its buffer kind. A buffer that fits on chip is
resident (its SRAM is its backing store: no DRAM traffic, no capacity charged). A spilled buffer
is backed by the DRAM and staged through its SRAM, whose tile budget is what the resident
buffers leave of it (per core).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from tess_sim.simulator.dataflow.arch import Arch, Port, port_of
from tess_sim.simulator.dataflow.mapper import Mapping, best
from tess_sim.simulator.dataflow.nest import Axis, Nest, Operand
from tess_sim.simulator.placement import chip_capacity, dram_name, home_of
from tess_sim.simulator.rules import Rule
from tess_sim.simulator.rules.program import Contraction, Count, Work
from tess_sim.simulator.workload import RF, Hardware, rf_memory

#: columns of the mapping table (one row per contraction of a Work)
MAPPING_COLUMNS = ["rule", "layer", "phase", "term", "dims", "spatial", "factors", "order", "bypass",
                   "runs", "compute_cycles", "cycles", "bound", "utilisation", "energy_pJ", "evaluated"]


@dataclass
class Mapper:
    """The mapper as the engines use it: the hardware's :class:`Arch` per rule (budgets depend on
    the rule's placement) and a cache of the best mapping per (nest, arch)."""

    hw: Hardware
    energy: tuple
    objective: str = "energy"
    cache: dict = field(default_factory=dict)
    #: what the mapper did: mappings evaluated, seconds spent, contractions asked (distinct: ``len(cache)``)
    evaluated: int = 0
    seconds: float = 0.0
    asked: int = 0

    def stats(self) -> str:
        """One line: ``mapper: N contractions (D distinct), E mappings evaluated in S s (R/s)``."""
        rate = self.evaluated / self.seconds if self.seconds else float("nan")
        return (f"mapper: {self.asked} contractions ({len(self.cache)} distinct), {self.evaluated:,} mappings "
                f"evaluated in {self.seconds:.2f} s ({rate:,.0f}/s), objective {self.objective}")

    def arch(self, placement: pd.DataFrame) -> Arch:
        """The array, ports, RF and tile budgets under one rule's ``placement`` rows."""
        hw = self.hw
        ports = [port_of(m) for m in hw.memories]
        ports.append(Port(RF, "rf", rw_bits=float(rf_memory(hw).word_bits)))
        budget = []
        for m in hw.memories:
            if m.kind != "sram":
                continue
            rows = placement[placement["memory"] == m.name]
            resident = rows[rows["spilled_bytes"] == 0]["on_chip_bytes"].sum()
            budget.append((m.name, max(0.0, (chip_capacity(hw, m) - float(resident)) / hw.cores)))
        spatial = hw.pe.spatial
        if isinstance(spatial, dict):
            axes = [((d, f),) for d, f in spatial.items()]
            spatial = tuple(axes + [()] * (2 - len(axes)))
        return Arch(tuple(hw.pe.array), spatial, hw.pe.rf_bits, tuple(ports), dram_name(hw), tuple(budget),
                    hw.pe.zero, self.energy)

    def best(self, nest: Nest, arch: Arch) -> Mapping:
        """The best mapping of ``nest`` on ``arch`` for the objective (cached per (nest, arch))."""
        self.asked += 1
        key = (nest, arch)
        if key not in self.cache:
            t0 = time.perf_counter()
            m = best(nest, arch, self.objective)
            self.seconds += time.perf_counter() - t0
            self.cache[key] = m
            self.evaluated += m.evaluated
        return self.cache[key]


def _axes(axes: tuple[str, ...], stride: int, with_T: bool) -> tuple[Axis, ...]:
    out = []
    for a in axes:
        if "+" in a:
            dim, window = a.split("+")
            out.append(Axis(dim, window, stride))
        else:
            out.append(Axis(a))
    return tuple(out) + ((Axis("T"),) if with_T else ())


def _weight_like(axes: tuple[str, ...]) -> bool:
    """A tensor indexed by both K and C (weights, their gradient, B_l) does not change over time."""
    return "K" in axes and "C" in axes


def _take(counts: list[Count], unit: str, action: str, prec: str, term: str, T: int) -> np.ndarray:
    """Remove ``term``'s part of the Count (unit, action, prec) not yet placed, and its gated ops
    (the mapping times the nest, gated points included); its per-step counts (zeros when there is
    none)."""
    for i, c in enumerate(counts):
        if (c.unit, c.action, c.prec) == (unit, action, prec) and not c.memory and c.cycles is None:
            parts, gated = dict(c.terms), dict(c.gated)
            if term not in parts and term not in gated:
                continue
            taken = np.asarray(parts.pop(term, np.zeros(T)), dtype=float)
            gated.pop(term, None)
            if parts or gated:
                counts[i] = replace(c, per_step=c.per_step - taken, terms=tuple(parts.items()),
                                    gated=tuple(gated.items()))
            else:
                counts.pop(i)
            return taken
    return np.zeros(T)


class _Counts:
    """Counts being added to a Work, merged per (unit, action, prec, memory, cycles)."""

    def __init__(self):
        self.totals, self.terms = {}, {}

    def add(self, unit: str, action: str, prec: str, memory: str, term: str, n: np.ndarray,
            cycles: float | None = None) -> None:
        if not np.any(n):
            return
        key = (unit, action, prec, memory, cycles)
        self.totals[key] = self.totals.get(key, 0.0) + n
        terms = self.terms.setdefault(key, {})
        terms[term] = terms.get(term, 0.0) + n

    def build(self) -> list[Count]:
        return [Count(u, a, p, np.asarray(v, dtype=float), tuple((t, np.asarray(n, dtype=float))
                                                                  for t, n in self.terms[(u, a, p, m, cy)].items()),
                      m, cy)
                for (u, a, p, m, cy), v in self.totals.items()]


def map_rule(rule: Rule, works: list[Work], hw: Hardware, placement: pd.DataFrame,
             mapper: Mapper) -> tuple[list[Work], list[tuple]]:
    """The rule's Works with every contraction mapped (module docstring), and one row of
    :data:`MAPPING_COLUMNS` per contraction."""
    pl = placement[placement["rule"] == rule.name].set_index("unit")
    arch = mapper.arch(placement[placement["rule"] == rule.name])
    T = rule.net.T
    out, rows = [], []
    for work in works:
        if not work.nests:
            out.append(work)
            continue
        Tw = len(work.counts[0].per_step) if work.counts else T
        counts = list(work.counts)
        added = _Counts()
        cycles, ideal = np.zeros(Tw), np.zeros(Tw)
        over_T = rule.schedule == "layer_major" and work.direction == "forward"
        for nest in work.nests:
            c, i, r = _map_one(nest, work, counts, added, arch, mapper, pl, hw, over_T, Tw)
            cycles += c
            ideal += i
            rows.append(r)
        out.append(replace(work, counts=tuple(counts) + tuple(added.build()), cycles=cycles, ideal_cycles=ideal))
    return out, rows


def nest_of(con: Contraction, hw: Hardware, pl: pd.DataFrame, steps: int | None = None,
            density: float = 1.0) -> Nest:
    """The mapper's loop nest of a contraction: its tensors as operands at the hardware's bit
    widths, each in its buffer kind's home memory, spilled when placement (``pl``: one rule's
    placement rows indexed by unit) spills that buffer kind; ``steps``: the time dimension T of a
    layer-major pass (None: one step); ``density``: non-zero share of the points."""
    dims = dict(con.dims)
    if steps:
        dims["T"] = steps
    operands = []
    for j, t in enumerate(con.tensors):
        spilled = bool(pl.loc[t.unit, "spilled_bytes"] > 0)
        axes = _axes(t.axes, con.stride, bool(steps) and not _weight_like(t.axes))
        operands.append(Operand(f"{j}:{t.unit}", axes, t.role, hw.precision.bits(t.prec), home_of(hw, t.unit),
                                spilled, t.sparse))
    ops: dict[str, float] = {}
    for kind, prec, per_point, sparse, term in con.ops:
        ops[kind] = ops.get(kind, 0.0) + per_point
    op_bits = max(hw.precision.bits(op[1]) for op in con.ops)
    return Nest(dims, tuple(operands), ops, density, op_bits)


def _map_one(con: Contraction, work: Work, counts: list[Count], added: _Counts, arch: Arch, mapper: Mapper,
             pl: pd.DataFrame, hw: Hardware, over_T: bool, T: int):
    when = np.asarray(con.when, dtype=float)
    runs = float(when.sum())
    steps = int(round(runs))
    with_T = over_T and steps > 1
    spread = when / runs if with_T else when  # runs of the nest (or share of its pass) per step
    # the rule's conventional counts of these tensors and ops, removed
    effective = {}
    for kind, prec, per_point, sparse, term in con.ops:
        effective[(kind, prec, term)] = effective.get((kind, prec, term), 0.0) + _take(counts, "pe", kind, prec, term, T)
    for t in con.tensors:
        for action in (("read",) if t.role == "read" else ("read", "write")):
            _take(counts, t.unit, action, t.prec, t.term, T)
    dense_step = con.points  # points per run (step-major) or per step (layer-major)
    sparse_only = all(op[3] for op in con.ops)
    eff_total = sum(float(np.sum(v)) for v in effective.values())
    per_point = sum(op[2] for op in con.ops)
    dense_total = dense_step * per_point * runs
    density = min(1.0, eff_total / dense_total) if sparse_only and dense_total else 1.0
    nest = nest_of(con, hw, pl, steps if with_T else None, density)
    m = mapper.best(nest, arch)
    # accesses, at the steps the nest runs
    for name, memory, action, elements in m.accesses:
        j = int(name.split(":")[0])
        t = con.tensors[j]
        added.add(t.unit, action, t.prec, memory, t.term, elements * spread)
    # ops: dense, or the rule's effective count of a sparse op under gate / skip
    for kind, prec, pp, sparse, term in con.ops:
        if sparse and hw.pe.zero != "none":
            n = effective[(kind, prec, term)]
        else:
            n = dense_step * pp * when
        added.add("pe", kind, prec, "", term, n, cycles=0.0)
    # compute cycles per step (skip: the step's own density of a sparse-only nest); the ideal
    # cycles of the points that do work (every PE busy every cycle) for the PE utilisation
    counted = sparse_only and hw.pe.zero != "none"
    eff_t = sum(effective.values()) if counted else dense_step * per_point * when
    if hw.pe.zero == "skip" and sparse_only:
        dense_cycles = m.compute_cycles / density if density > 0 else 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            d_t = np.where(when > 0, eff_t / (dense_step * per_point * np.where(when > 0, when, 1.0)), 0.0)
        cyc = dense_cycles * spread * d_t
    else:
        cyc = m.compute_cycles * spread
    ideal = eff_t / per_point / arch.units
    bound = max(m.memory_cycles, key=m.memory_cycles.get) if m.memory_cycles else "compute"
    if not m.memory_cycles or m.memory_cycles[bound] <= m.compute_cycles:
        bound = "compute"
    terms = " + ".join(dict.fromkeys(op[4] for op in con.ops))
    row = (work.rule, work.layer, work.phase, terms, fmt(nest.dims), fmt(m.spatial),
           " | ".join(f"{lvl}: {fmt(f)}" for lvl, f in m.factors.items()),
           " | ".join(f"{lvl}: {' '.join(o) or '-'}" for lvl, o in m.order.items()),
           " ".join(sorted(n.split(":")[1] for n in m.bypass)) or "-",
           runs if not with_T else 1.0, m.compute_cycles, m.cycles, bound, m.utilisation, m.energy, m.evaluated)
    return cyc, ideal, row


def fmt(factors: dict) -> str:
    """``K16 OY8`` (the factors > 1), or ``-``."""
    return " ".join(f"{k}{v}" for k, v in factors.items() if v != 1) or "-"


def map_all(rules: list[Rule], works: dict[str, list[Work]], hw: Hardware, placement: pd.DataFrame,
            mapper: Mapper | None) -> tuple[dict[str, list[Work]], pd.DataFrame | None]:
    """Every rule's Works mapped on a ``mapped`` core (and the mapping table), or unchanged with
    no table on an ``event_driven`` one."""
    if hw.dataflow != "mapped":
        return works, None
    if mapper is None:
        raise ValueError("a mapped dataflow needs a Mapper with an energy table (tess_sim.api builds it "
                         "from the workload's first cost model)")
    out, rows = {}, []
    for rule in rules:
        out[rule.name], r = map_rule(rule, works[rule.name], hw, placement, mapper)
        rows += r
    return out, pd.DataFrame(rows, columns=MAPPING_COLUMNS)
