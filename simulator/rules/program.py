"""The vocabulary of rule programs: what one phase of one layer does at each step.

A rule program (one module per rule) lists :class:`Work` items in execution order. Each Work is
one phase of one layer and carries :class:`Count` items: ops on the PE array (``unit = "pe"``,
``action`` an op kind) or traffic to a buffer (``unit`` a buffer kind, ``action`` read / write),
as float arrays over the T steps (per sample). Both engines read the same Works: the analytical
engine sums them, the SimPy engine turns each (Work, step) into a timed task.

``direction`` says when a Work runs: ``forward`` every step in list order; ``backward`` after the
last forward step, steps in reverse (BPTT's pass through time); ``sample`` once per sample after
that (the optimizer under ``update: per_sample``), its counts an array of length 1; ``batch`` once
per mini-batch (the optimizer), its counts an array of length 1 that the engines divide by the
batch size.

Every Count is the sum of its *terms*: the formulas of the rule that perform this action, each
named by a short label in the words of docs/math.md (``causal corr(tr_x, m·Psi)``, ``LIF
update``, ...), one ledger row each (the ``term`` column). The engines execute the Count and
write its terms as rows, so that a ledger row leads to the line of the rule module that wrote it.

State the rule keeps is a list of :class:`Hold` items (elements resident at the peak of a sample),
each naming its term too. Every Count and Hold names a precision key (``weight``, ``membrane``,
``trace``, ``gradient``, ``spike``, ``input``, ``lsg``) that the hardware's precision table turns
into bits.

Counting conventions of the ``full`` ledger (stated once, here):

- Event-driven synaptic integration: one AC per (input event, target neuron) pair (border-exact
  fan-out), or one MAC per dense pair, padding included, for an analog first layer; each
  synaptic operation reads one weight and read-modify-writes one membrane accumulator (the
  event-driven core of ODIN / ReckOn: no weight reuse across events).
- Every other phase is a dense, tiled computation with ideal reuse inside the phase: it reads
  each operand element and writes each result element once per step.
- Neuron update per neuron and step: 1 multiply (leak), 1 compare (threshold), 1 add per spike
  (reset), and Psi: triangle 2 add + 2 mul + 2 cmp, fast-sigmoid 2 add + 3 mul + 1 cmp + 1 div.
- Pooling per output element: max k² − 1 compares; average k² − 1 adds + 1 multiply.
- Softmax + CE gradient over C classes: C exp, C div, C add (C − 1 for the sum, 1 for −onehot).
- Optimizer per weight and mini-batch: SGD 1 MAC; Adam 6 mul + 4 add + 1 sqrt + 1 div.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tess_sim.simulator.vocab import DIRECTIONS, ONCE, OP_KINDS, PHASES

ADAM_OPS = {"mul": 6, "add": 4, "sqrt": 1, "div": 1}
SGD_OPS = {"mac": 1}


@dataclass(frozen=True)
class Count:
    """One kind of action of a Work at one precision: ``per_step[t]`` actions at step t (per
    sample), the sum of its ``terms``, each ``(term, per-step counts)``: the formulas of the rule
    that make up this action (a ledger row each).

    Rule programs leave ``memory`` and ``cycles`` unset: placement decides which memory serves an
    access (:mod:`simulator.placement`) and the hardware's op cycles time an op. A mapped dataflow
    (:mod:`simulator.engines.mapped`) sets both for the counts of the contractions it mapped: the
    memory level of each access (``rf``, a buffer, the DRAM) and the compute cycles of one op."""

    unit: str
    action: str
    prec: str
    per_step: np.ndarray
    terms: tuple[tuple[str, np.ndarray], ...]
    memory: str = ""
    cycles: float | None = None
    #: ops on a zero operand the PEs step over without executing them (``pe.zero: gate``), per
    #: term ``(term, per-step counts)``: not in ``per_step`` (nor priced), but timed like an op of
    #: this Count (:meth:`WorkBuilder.sparse_ops`); empty for every other Count
    gated: tuple[tuple[str, np.ndarray], ...] = ()

    @property
    def gated_per_step(self) -> np.ndarray | None:
        """[T] the gated ops of every term (None: none)."""
        if not self.gated:
            return None
        return np.sum([n for _, n in self.gated], axis=0)

    def capped(self, E: float) -> list[tuple[str, float]]:
        """(term, Σ_t of its part of min(per_step[t], E)) for every term: a phase touching a
        slice of E elements at most E times a step (:func:`simulator.placement.touched`), the cap
        shared by the terms in proportion to their counts at that step. A term of a step under
        the cap keeps its count exactly."""
        if len(self.terms) == 1:
            return [(self.terms[0][0], float(np.minimum(self.per_step, E).sum()))]
        over = self.per_step > E
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(over, E / self.per_step, 1.0)
        return [(term, float(np.where(over, n * scale, n).sum())) for term, n in self.terms]

    def capped_pass(self, E: float) -> list[tuple[str, float]]:
        """(term, its part of min(Σ_t per_step[t], E)): a slice of E elements touched at most
        once over the whole pass (a layer-major layer's weights), shared by the terms in
        proportion to their totals."""
        total = float(self.per_step.sum())
        scale = min(1.0, E / total) if total else 1.0
        return [(term, float(n.sum()) * scale) for term, n in self.terms]

    def executed(self, per_step: np.ndarray) -> "Count":
        """This Count as an engine executed it (``per_step`` summed back from its pieces): a lone
        term takes it whole; several are rescaled step by step to sum to it (an engine's counts
        differ from the program's only beyond 2^53, see :mod:`simulator.engines.plan`)."""
        per_step = np.asarray(per_step, dtype=float)
        if len(self.terms) == 1:
            return replace(self, per_step=per_step, terms=((self.terms[0][0], per_step),))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.per_step != 0, per_step / self.per_step, 0.0)
        terms = tuple((term, n * ratio) for term, n in self.terms)
        return replace(self, per_step=per_step, terms=terms)


@dataclass(frozen=True)
class Tensor:
    """One operand of a :class:`Contraction`, as the rule knows it: the buffer kind and precision
    it lives in, its index ``axes`` (a loop dimension, or a sliding window ``"OX+FX"``: output
    position × stride + filter position), its ``role`` — ``read``, ``update`` (accumulated in
    place onto a value in memory: the membrane, the gradient accumulator) or ``write``
    (accumulated from zero: a propagated error) — whether its zeros are the sparsity ``pe.zero``
    gates or skips (spikes), and the ``term`` its accesses are written under (the term whose
    conventional accesses of this tensor it replaces)."""

    unit: str
    prec: str
    axes: tuple[str, ...]
    role: str
    term: str
    sparse: bool = False


@dataclass(frozen=True)
class Contraction:
    """A tensor contraction of a Work: a loop nest over named ``dims`` (K, C, OY, OX, FY, FX;
    ``stride`` for the sliding windows), its ``tensors`` (inputs and one output) and ``ops``, each
    ``(kind, prec, ops per point of the nest, sparse, term)`` (a sparse op is one on a sparse
    tensor: zero operands). ``when`` [T]: 1.0 at the steps it runs. On an ``event_driven`` core the
    rule's own counts stand (this description is unused); a ``mapped`` core replaces the counts of
    these (unit, prec, term) and op (kind, prec, term) keys by its mapper's (docs/dataflow.md)."""

    dims: tuple[tuple[str, int], ...]
    tensors: tuple[Tensor, ...]
    ops: tuple[tuple[str, str, float, bool, str], ...]
    when: np.ndarray
    stride: int = 1

    @property
    def points(self) -> float:
        """Points of the nest per run (dense): Π dims."""
        return float(np.prod([n for _, n in self.dims], dtype=float))


@dataclass(frozen=True)
class Work:
    """One phase of one layer: its counts per step, and when it runs."""

    rule: str
    layer: str
    phase: str
    direction: str
    counts: tuple[Count, ...]
    nests: tuple[Contraction, ...] = ()
    #: [T] compute cycles per step of the contractions a mapper tiled (their op Counts carry
    #: ``cycles = 0``: the mapping times them), and the ideal cycles of those ops (dense points /
    #: PEs) for the PE utilisation; None on an event_driven core
    cycles: np.ndarray | None = None
    ideal_cycles: np.ndarray | None = None

    @property
    def gated(self) -> tuple[Count, ...]:
        """The Counts with gated ops (``pe.zero: gate``), in count order: the engines time their
        gated ops (:attr:`Count.gated`) like ops of that Count, and price none of them."""
        return tuple(c for c in self.counts if c.gated)

    def total(self, batch: int) -> list[tuple[str, str, str, str, str, float]]:
        """(unit, action, prec, term, memory, count per sample) for every non-zero term of every
        count."""
        scale = 1.0 / batch if self.direction == "batch" else 1.0
        out = []
        for c in self.counts:
            for term, per_step in c.terms:
                n = float(per_step.sum()) * scale
                if n:
                    out.append((c.unit, c.action, c.prec, term, c.memory, n))
        return out


@dataclass(frozen=True)
class Hold:
    """State kept by a rule: ``elements`` of buffer ``unit`` for ``layer`` at precision ``prec``;
    ``term`` names what is held (a ledger row each)."""

    unit: str
    layer: str
    prec: str
    elements: float
    term: str


class WorkBuilder:
    """Collects Counts for one Work; zero counts are dropped.

    Every count is written under the current ``term`` (set by :meth:`term`, which starts each
    formula's chain: ``wb.term("causal corr(tr_x, m·Psi)").ops(...).read(...)``), a short label in
    the words of docs/math.md that becomes the ledger's ``term`` column. Calls with the same
    (unit, action, prec) add to one Count (what the hardware executes), their terms kept apart
    inside it (what the ledger shows).
    """

    def __init__(self, rule: str, layer: str, phase: str, T: int, direction: str = "forward"):
        assert phase in PHASES and direction in DIRECTIONS
        self.rule, self.layer, self.phase, self.direction = rule, layer, phase, direction
        self.T = 1 if direction in ONCE else T
        self._term = ""
        self._nests: list[Contraction] = []
        self._totals: dict[tuple[str, str, str], np.ndarray] = {}  # per (unit, action, prec), in call order
        self._terms: dict[tuple[str, str, str], dict[str, np.ndarray]] = {}
        self._gated: dict[tuple[str, str, str], dict[str, np.ndarray]] = {}

    def term(self, label: str) -> "WorkBuilder":
        """Write the following counts under ``label`` (until the next call)."""
        assert label and label.strip() == label, repr(label)
        self._term = label
        return self

    def _add(self, unit: str, action: str, prec: str, n) -> "WorkBuilder":
        arr = np.asarray(n, dtype=float)
        if arr.ndim == 0:
            if arr == 0:
                return self
            arr = np.full(self.T, float(arr))
        elif not arr.any():
            return self
        assert self._term, f"{self.rule} {self.layer} {self.phase}: a count before any term()"
        key = (unit, action, prec)
        self._totals[key] = self._totals.get(key, 0.0) + arr
        terms = self._terms.setdefault(key, {})
        terms[self._term] = terms.get(self._term, 0.0) + arr
        return self

    def ops(self, prec: str, **kinds) -> "WorkBuilder":
        """PE operations of the given kinds (e.g. ``mac=F``) at precision ``prec``."""
        for kind, n in kinds.items():
            assert kind in OP_KINDS, kind
            self._add("pe", kind, prec, n)
        return self

    def sparse_ops(self, prec: str, zero: str, **kinds) -> "WorkBuilder":
        """PE operations with an operand that can be zero, each kind given as ``(dense, nonzero)``:
        the count with zeros executed (what :meth:`ops` takes) and the measured count of ops whose
        every operand is non-zero (:data:`simulator.activity.OPERAND_COLUMNS`; None: not measured).
        Under the hardware's ``zero`` (``pe.zero``): ``none`` — or nothing measured — counts
        ``dense``; ``skip`` counts ``nonzero`` (energy and cycles); ``gate`` counts ``nonzero``
        and keeps the rest, ``dense − nonzero``, as the Count's gated ops (cycles, no energy)."""
        for kind, (dense, nonzero) in kinds.items():
            if nonzero is None or zero == "none":
                self.ops(prec, **{kind: dense})
                continue
            self.ops(prec, **{kind: nonzero})
            if zero == "gate":
                rest = np.maximum(np.broadcast_to(np.asarray(dense, dtype=float), (self.T,)) - nonzero, 0.0)
                if rest.any():
                    assert self._term, f"{self.rule} {self.layer} {self.phase}: a count before any term()"
                    key = ("pe", kind, prec)
                    self._totals.setdefault(key, np.zeros(self.T))  # a Count even if every op is gated
                    self._terms.setdefault(key, {})
                    gated = self._gated.setdefault(key, {})
                    gated[self._term] = gated.get(self._term, 0.0) + rest
        return self

    def read(self, buffer: str, prec: str, n) -> "WorkBuilder":
        return self._add(buffer, "read", prec, n)

    def write(self, buffer: str, prec: str, n) -> "WorkBuilder":
        return self._add(buffer, "write", prec, n)

    def nest(self, contraction: Contraction) -> "WorkBuilder":
        """Declare a tensor contraction of this Work (what a mapped core tiles; see
        :class:`Contraction`)."""
        self._nests.append(contraction)
        return self

    def build(self) -> Work:
        # the sums in _totals and _terms are arrays of their own (0.0 + arr is a new array)
        counts = tuple(Count(u, a, p, v, tuple(self._terms[(u, a, p)].items()),
                             gated=tuple(self._gated.get((u, a, p), {}).items()))
                       for (u, a, p), v in self._totals.items())
        return Work(self.rule, self.layer, self.phase, self.direction, counts, tuple(self._nests))


def learning_mask(T: int, window: int | None) -> np.ndarray:
    """1.0 at the learning steps t >= T - window (window None = every step), else 0.0; shape [T]."""
    w = T if window is None else min(window, T)
    mask = np.zeros(T)
    mask[T - w:] = 1.0
    return mask
