"""One Work of one rule, ready to simulate: its pieces and their cycles, built a chunk of steps
at a time so memory does not grow with T.

A :class:`Plan` holds only per-step data (the driver [T], pieces per step [T]; it reads the Work's
counts [K, T]) and the cost coefficients. :meth:`Plan.chunk` cuts the steps of one chunk into
pieces (:func:`.pieces.split` works step by step, so a chunk's pieces are exactly those of a
whole-T split), prices them, adds their statistics to the totals and keeps only what the
simulation reads per piece (durations, DRAM cycles with several cores, output spikes sent to
another core). Each chunk is built once: a controller walks a Plan's steps forwards
(``forward``, ``batch``) or backwards (``backward``), never both. A Plan of at most
:data:`WHOLE_PIECES` pieces is one chunk, built in program order before the simulation starts, so
its sums are those of one whole-T array to the bit; a larger one (long samples) is summed chunk
by chunk, which can move the last bits of the float sums.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from tess_sim.simulator.engines.simpy.costs import WorkCosts
from tess_sim.simulator.engines.simpy.pieces import piece_counts, split
from tess_sim.simulator.rules.program import Work

#: a Plan whose whole sample has at most this many pieces is one chunk (its statistics are then
#: summed exactly as over one whole-T array)
WHOLE_PIECES = 1 << 15
#: else a chunk holds at most this many pieces (unless one step alone has more)
CHUNK_PIECES = 1 << 13


@dataclass
class Chunk:
    """The pieces of steps ``t0 … t1 - 1`` of a Plan: step t's pieces are rows
    ``start[t - t0] : start[t - t0] + n[t - t0]``; cycles per piece (``dur``, ``dram``), output
    spike events per piece (``spikes``, neuron phases feeding another core), and per-piece
    compute / memory / latency cycles only when the engine keeps task records."""

    t0: int
    t1: int
    start: np.ndarray
    n: np.ndarray
    dur: np.ndarray
    dram: np.ndarray | None  # None: no DRAM cycles, or one core (nothing to contend with)
    spikes: np.ndarray | None = None
    compute: np.ndarray | None = None
    mem_max: np.ndarray | None = None
    latency: np.ndarray | None = None
    _incs: tuple | None = None

    def rows(self, t: int) -> tuple[int, int]:
        """(first row, number of rows) of step t's pieces."""
        return int(self.start[t - self.t0]), int(self.n[t - self.t0])

    def increments(self, dram_split: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """The clock increments of the pieces run back to back, in order, and the index of each
        piece's last increment (None: one increment per piece): a piece lasts ``dur``; with
        ``dram_split`` (several cores: a piece holds the shared DRAM first) a piece with DRAM
        cycles lasts ``dram``, then ``dur - dram`` when that is positive — the timeouts the
        piece-by-piece process yields."""
        if self._incs is None:
            if not dram_split or self.dram is None or not (self.dram > 0).any():
                self._incs = (self.dur, None)
            else:
                two = (self.dram > 0) & (self.dur > self.dram)
                last = np.cumsum(1 + two) - 1
                incs = np.empty(int(last[-1]) + 1)
                incs[last] = np.where(two, self.dur - self.dram, np.where(self.dram > 0, self.dram, self.dur))
                incs[last[two] - 1] = self.dram[two]
                self._incs = (incs, last)
        return self._incs


@dataclass
class Stats:
    """Totals over a Plan's pieces, in cycles: PE busy (``compute``) and work-conserving
    (``useful``), per memory instance busy (``mem``), first-piece latency, Σ durations,
    Σ (compute + Σ memory + latency) (the no-overlap bound)."""

    instances: int
    compute: float = 0.0
    useful: float = 0.0
    latency: float = 0.0
    duration: float = 0.0
    serial: float = 0.0
    mem: np.ndarray = field(init=False)

    def __post_init__(self):
        self.mem = np.zeros(self.instances)


def _row_max(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``m.max(axis=1)`` and ``m.argmax(axis=1)`` (first maximum) of a [P, few] array, column by
    column (fast for few columns); zeros for no column."""
    P, M = m.shape
    if M == 0:
        return np.zeros(P), np.zeros(P, dtype=np.int64)
    best, arg = m[:, 0].copy(), np.zeros(P, dtype=np.int64)
    for k in range(1, M):
        col = m[:, k]
        arg[col > best] = k
        np.maximum(best, col, out=best)
    return best, arg


def _row_sum(m: np.ndarray) -> np.ndarray:
    """``m.sum(axis=1)`` of a [P, few] array: the columns added left to right (numpy adds a row
    of fewer than 8 elements in that order, so the result is the same to the bit)."""
    if m.shape[1] >= 8:  # numpy's blocked summation: leave it to numpy
        return m.sum(axis=1)
    out = np.zeros(m.shape[0])
    for k in range(m.shape[1]):
        out += m[:, k]
    return out


class Plan:
    """One Work of one rule on its core (see the module docstring)."""

    def __init__(self, index: int, work: Work, core: int, driver: np.ndarray, size: float,
                 costs: WorkCosts, scale: float, shared: np.ndarray, stall_mem: np.ndarray,
                 keep_dram: bool, keep: bool = False):
        self.index, self.work, self.core, self.costs, self.scale = index, work, core, costs, scale
        self.driver, self.size, self.shared, self.keep = driver, size, shared, keep
        self.keep_dram = keep_dram and bool(shared.any())
        T = len(driver)
        busy = np.zeros(T, dtype=bool)
        top = 0.0
        for row in self.counts(0, T):
            busy |= row != 0
            top = max(top, float(row.max()))
        # pieces sum back to the counts exactly below 2^53 (telescoping integer parts): check beyond
        self.check = top >= 2.0 ** 53
        self.n = piece_counts(busy[None, :], driver, size)  # [T] pieces per step
        self.tasks = int(self.n.sum())
        self.spike_col = None
        if work.phase == "neuron":
            k = [i for i, c in enumerate(work.counts) if c.unit == "spikes" and c.action == "write"]
            self.spike_col = k[0] if k else None
        widest = max(1, int(self.n.max()) if T else 1)
        self.whole = self.tasks <= WHOLE_PIECES
        self.per_chunk = max(1, T) if self.whole else max(1, CHUNK_PIECES // widest)  # steps per chunk
        self.stats = Stats(costs.mem.shape[1])
        self.stall_mem = stall_mem  # [instances] shared by the rule's Plans, added to in build order
        self.executed: np.ndarray | None = None  # [K, T] only where pieces do not sum back exactly
        self._chunk: Chunk | None = None
        self.spike_from: Plan | None = None  # producer of this Work's input spikes on another core
        self.spike_to: Plan | None = None
        self.error_from: Plan | None = None  # backward phase of the layer above on another core
        self.error_to: list[Plan] = []
        self.want_spikes = False  # keep per-piece output spikes (set when spike_to is linked)

    # ------------------------------------------------------------------ chunks
    def chunk(self, t: int) -> Chunk:
        """The chunk holding step t (built, and its statistics counted, on first use)."""
        c = self._chunk
        if c is None or not c.t0 <= t < c.t1:
            t0 = (t // self.per_chunk) * self.per_chunk
            c = self._chunk = self._build(t0, min(len(self.n), t0 + self.per_chunk))
        return c

    def counts(self, t0: int, t1: int) -> np.ndarray:
        """[K, t1 - t0] the Work's counts of steps t0 … t1 - 1, then the gated ops of its Counts
        that have some (:attr:`Work.gated`: timed, not executed), then (a mapped Work) its compute
        and ideal cycles, each split into pieces like a count."""
        w = self.work
        rows = [c.per_step[t0:t1] for c in w.counts]
        rows += [c.gated_per_step[t0:t1] for c in w.gated]
        if w.cycles is not None:
            rows += [w.cycles[t0:t1], w.ideal_cycles[t0:t1]]
        if not rows:
            return np.zeros((0, t1 - t0))
        return np.array(rows)

    def reset(self) -> None:
        """Forget the statistics and chunks of an earlier run."""
        self.stats = Stats(self.costs.mem.shape[1])
        self.executed = None
        self._chunk = None

    def first(self) -> None:
        """Build a Plan of one chunk now (called in program order, so that its memory-bound stall
        cycles are added in that order: the order of a whole-T array)."""
        if self.whole:
            self.chunk(0)

    def release(self) -> None:
        """Drop the current chunk (the controller is done with this Plan)."""
        self._chunk = None

    def _build(self, t0: int, t1: int) -> Chunk:
        costs, scale = self.costs, self.scale
        pieces = split(self.counts(t0, t1), self.driver[t0:t1], self.size)
        if self.check:
            self._check_sums(pieces, t0, t1)
        # x * 1.0 and x + 0.0 are x: skipped, the values are those of the full expressions
        c = pieces.counts
        push = costs.push.any()
        compute = c @ costs.pe
        if push:
            compute = compute + c @ costs.push
        if scale != 1.0:
            compute = compute * scale
        if costs.useful is not None:
            useful = (c @ costs.useful) * scale
        elif costs.util == 1.0:
            useful = compute
        else:
            useful = c @ (costs.pe * costs.util)
            useful = (useful + c @ costs.push if push else useful) * scale
        mem = c @ costs.mem
        for i, r, w, port in costs.ports:  # read-only / write-only ports: cycles of the mix
            mem[:, i] = port.cycles(c @ r, c @ w)
        if scale != 1.0:
            mem = mem * scale
        first = np.zeros(len(pieces.step), dtype=bool)
        first[pieces.start[pieces.n > 0]] = True
        lat = np.where(first, costs.latency, 0.0)
        mmax, arg = _row_max(mem)
        dur = np.maximum(compute, mmax)
        if costs.latency:
            dur += lat
        dram = mem[:, self.shared].sum(axis=1) if self.keep_dram else None
        s = self.stats
        s.compute += compute.sum()
        s.useful += useful.sum()
        if t0 == 0 and t1 == len(self.n):
            s.mem = mem.sum(axis=0)  # [P, few] along P: added row by row
        else:  # continue the row-by-row sum over the chunks
            s.mem = np.add.reduce(np.concatenate([s.mem[None, :], mem]), axis=0)
        s.latency += lat.sum()
        s.serial += (compute + _row_sum(mem) + lat).sum()
        s.duration += dur.sum()
        if mem.shape[1] and len(dur):
            bound = mmax > compute
            np.add.at(self.stall_mem, arg[bound], (mmax - compute)[bound])
        spikes = None
        if self.want_spikes:
            spikes = c[:, self.spike_col] if self.spike_col is not None else np.zeros(len(dur))
        ch = Chunk(t0, t1, pieces.start, pieces.n, dur, dram if self.keep_dram else None, spikes)
        if self.keep:
            ch.compute, ch.mem_max, ch.latency = compute, mmax, lat
        return ch

    def _check_sums(self, pieces, t0: int, t1: int) -> None:
        """Executed counts = the pieces summed back per step; kept apart only where they differ
        from the Work's counts (integer parts beyond 2^53), so the ledger is the executed one."""
        got = pieces.per_step()
        if self.executed is None and np.array_equal(got, self.counts(t0, t1)):
            return
        if self.executed is None:
            self.executed = self.counts(0, len(self.n))
        self.executed[:, t0:t1] = got

    # ------------------------------------------------------------------ results
    def executed_work(self) -> Work:
        """The Work as executed (counts summed back from the pieces)."""
        if self.executed is None:
            return self.work
        w = self.work
        counts = tuple(c.executed(ps) for c, ps in zip(w.counts, self.executed))  # not the cycle rows
        return replace(w, counts=counts)
