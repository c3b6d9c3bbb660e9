"""The loop-nest mapper: the mapspace of a nest on an Arch, the access counts of one mapping
(:func:`evaluate`, the scalar reference) and the exhaustive vectorised search (:func:`best`).

Levels, inner to outer: the PE array (``spatial``), the register file of each PE (``rf``), the
operand's home memory (``buffer``: its SRAM, or the DRAM it lives in) and the DRAM (``dram``).
A dim ``d`` of size ``N`` unrolled ``s`` ways runs ``P = ceil(N / s)`` temporal steps split into
``rf * buffer * dram = P`` factors. Index order inside a dim: dram outermost, then buffer, then the
spatial index, then rf innermost (each PE gets a contiguous run of ``rf`` indices).

Counting semantics (Timeloop's, no halo reuse), per execution of the nest:

* A level's *tile* of an operand is the box spanned by its axes over the loops at that level and
  below: RF tile per PE (rf factors), array tile (spatial x rf: what the buffer delivers per RF
  fill, one access per distinct element: multicast of inputs), buffer tile (x buffer factors).
* Fills of a level = the product of the bounds of the loops above it, except the innermost run of
  loops irrelevant to the operand (a loop of bound 1 never ends the run). A bypassed operand has
  no RF tile: the rf loops are the innermost loops of its buffer level and its array tile is the
  spatial tile.
* Inputs: RF writes = RF fills x RF tile x PEs; RF reads = points executed; buffer reads = RF
  fills x array tile; spilled: DRAM reads = buffer writes = buffer fills x buffer tile.
* The output: RF read + write per point executed; buffer writes = RF drains x array tile, buffer
  reads the same (``update``) or that minus the first visits (``write``: the union of the array
  tiles, the tensor's elements); spilled: DRAM writes = buffer drains x buffer tile (also buffer
  reads), DRAM reads the same (update) or minus the first visits at the buffer (write), also
  buffer writes.
* Padding: a spatial factor that does not divide its dim pads it to ``s * P``; the nest runs on the
  padded extents (padded elements are held and moved as zeros, as Timeloop on a padded problem);
  ops and the per-point RF accesses count real points only.
* Zero policy: ``none`` prices dense points; ``gate`` and ``skip`` price ``density`` x points of
  ops and per-point RF reads (gated ops cost nothing), ``skip`` also scales compute cycles by the
  density; the other memory traffic follows the mapping (dense).
* Cycles: compute = product of the temporal bounds (x density for skip); each memory (not the RF,
  which feeds its PE every cycle) by :meth:`Port.cycles`; total = the max (double-buffered).

The mapspace (:func:`mapspace`; :func:`best` searches it exhaustively):

* spatial: the Arch's fixed unrolling, or ``auto``: per array axis nothing, one dim of the output
  (factor: its largest divisor <= the axis, or the whole axis padding the dim) or a product of two
  output dims (divisors, product maximal under the axis), dims distinct across axes; of those the
  unrollings of maximal utilisation (dense points / (compute cycles x PEs)), products of two dims
  only where they raise it above the single-dim unrollings;
* bypass: any subset of the inputs (the output always accumulates in the RF);
* temporal factors: every ``rf * buffer * dram = P`` with at most :data:`MAX_DRAM_DIMS` (2) dims
  iterating at the DRAM level, the RF holding every non-bypassed RF tile
  (bits) and each SRAM the buffer tiles of its spilled operands within max(``budget``, one array
  step of them): a buffer whose budget cannot hold even the spatial tiles is a staging FIFO of
  that size, never more (an earlier rule took any tile as staged when the buffer factors were 1,
  while counting its DRAM fills as if held: tests/test_anchors.py caught it against ZigZag);
  at most :data:`MAX_DRAM_DIMS` dims iterate at the DRAM level, or the fewest more for which a
  mapping fits the capacities (small buffers, a layer-major nest with T);
* loop orders: every permutation of the dims of bound > 1 at buffer and dram (and rf when an
  operand bypasses the RF; otherwise the rf order changes nothing).

:func:`best` prunes only by exact dominance (each rule maps a candidate to one at least as good in
every count, hence for every objective): dims of equal relevance grouped at a level, a dim relevant
to every operand outermost, orders differing only in bound-1 loops merged; dims irrelevant to every
spilled operand have dram factor 1; the buffer/dram split is maximal (no prime of a dram factor
fits into a buffer loop of its class), and so is the rf/buffer split of dims irrelevant to every
bypassed operand; a dim no kept operand but every bypassed one depends on has no rf loop.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

import numpy as np

from tess_sim.simulator.dataflow.arch import Arch
from tess_sim.simulator.dataflow.nest import Nest, Operand

LEVELS = ("rf", "buffer", "dram")
#: candidates scored per batch of the search
CHUNK = 4000
#: the DRAM level iterates at most this many dims (loops of bound > 1): part of the mapspace
MAX_DRAM_DIMS = 2
OBJECTIVES = ("energy", "latency", "edp")


@dataclass(frozen=True)
class Candidate:
    """One point of the mapspace. ``spatial``: per array axis ``((dim, factor), ...)``;
    ``factors``: ``((dim, (rf, buffer, dram)), ...)`` for every dim of the nest; ``order``:
    ``((level, dims outermost first), ...)`` for rf, buffer, dram; ``bypass``: operand names not
    kept in the RF."""
    spatial: tuple
    factors: tuple
    order: tuple
    bypass: frozenset

    @staticmethod
    def make(spatial, factors: dict, order: dict | None = None, bypass=()) -> "Candidate":
        """From dicts: ``factors = {dim: (rf, buffer, dram)}``, ``order = {level: dims}`` (outermost
        first; missing levels/dims: canonical order, missing dims outermost)."""
        dims = tuple(factors)
        order = dict(order or {})
        full = []
        for lv in LEVELS:
            given = tuple(order.get(lv, ()))
            full.append((lv, tuple(d for d in dims if d not in given) + given))
        sp = tuple(tuple((str(d), int(f)) for d, f in axis) for axis in spatial)
        return Candidate(sp, tuple((d, tuple(int(v) for v in factors[d])) for d in dims),
                         tuple(full), frozenset(bypass))


@dataclass(frozen=True)
class Mapping:
    """A mapping and its counts per execution of the nest (see the module docstring).

    ``accesses``: ``(operand, memory, "read"|"write", elements)``, memory ``"rf"``, the operand's
    home memory or the DRAM. ``ops``: op kind -> ops priced. Cycles in clock cycles, energy in pJ.
    """
    spatial: dict
    axes: tuple
    factors: dict
    order: dict
    bypass: frozenset
    accesses: tuple
    ops: dict
    compute_cycles: float
    memory_cycles: dict
    cycles: float
    energy: float
    utilisation: float
    evaluated: int
    candidate: Candidate | None = None

    def count(self, operand: str, memory: str, action: str) -> float:
        """Elements of ``operand`` read/written in ``memory`` (0 when absent)."""
        return sum(n for o, m, a, n in self.accesses if (o, m, a) == (operand, memory, action))

    def objective(self, name: str) -> float:
        return objective_value(name, self.energy, self.cycles)


def objective_value(name: str, energy, cycles):
    if name == "energy":
        return energy
    if name == "latency":
        return cycles
    if name == "edp":
        return energy * cycles
    raise ValueError(f"objective {name!r} not in {OBJECTIVES}")


# ----------------------------------------------------------------------------- helpers

def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def smallest_prime(n: int) -> int:
    """Smallest prime factor of n >= 2 (n itself when prime)."""
    for p in range(2, int(math.isqrt(n)) + 1):
        if n % p == 0:
            return p
    return n


def splits(n: int, parts: int) -> list[tuple[int, ...]]:
    """Every ordered factorisation of n into ``parts`` factors."""
    if parts == 1:
        return [(n,)]
    return [(d,) + rest for d in divisors(n) for rest in splits(n // d, parts - 1)]


@lru_cache(maxsize=65536)
def sliding_union(total_out: int, total_win: int, stride: int, tile_out: int, tile_win: int) -> int:
    """Distinct indices of a sliding axis covered by all its tiles: boxes of length
    ``(tile_out - 1) * stride + tile_win`` starting at ``i * tile_out * stride + j * tile_win``."""
    length = (tile_out - 1) * stride + tile_win
    starts = sorted({i * tile_out * stride + j * tile_win
                     for i in range(total_out // tile_out) for j in range(total_win // tile_win)})
    covered, end = 0, -1
    for s in starts:
        lo = max(s, end)
        hi = s + length
        if hi > lo:
            covered += hi - lo
            end = hi
    return covered


def first_visits(op: Operand, tile: dict, full: dict) -> int:
    """Elements of ``op`` ever visited by its tiles of extents ``tile`` over the padded space
    ``full`` (dim -> indices): the tensor's elements, less the indices a strided window skips."""
    out = 1
    for a in op.axes:
        if a.window is None:
            out *= full[a.dim]
        else:
            out *= sliding_union(full[a.dim], full[a.window], a.stride, tile[a.dim], tile[a.window])
    return out


def spatial_factors(nest: Nest, spatial) -> dict[str, int]:
    """dim -> spatial factor (product over the array axes; a fixed factor is capped at the dim)."""
    s = {d: 1 for d in nest.order}
    for axis in spatial:
        for d, f in axis:
            if d not in s:
                raise ValueError(f"spatial names dim {d!r} the nest does not have")
            s[d] *= f
    for d in s:
        s[d] = min(s[d], nest.dims[d])
    return s


def temporal_extent(nest: Nest, s: dict) -> dict[str, int]:
    return {d: -(-nest.dims[d] // s[d]) for d in nest.order}


def _axis_options(nest: Nest, size: int) -> tuple[list, list]:
    """(single-dim, two-dim) assignments of one array axis of ``size`` PEs to output dims."""
    outs = [d for d in nest.order if d in nest.output.dims and nest.dims[d] > 1]
    singles = [()]
    for d in outs:
        n = nest.dims[d]
        best_div = max(f for f in divisors(n) if f <= size)
        if best_div > 1:
            singles.append(((d, best_div),))
        if n > size and best_div < size:
            singles.append(((d, size),))
    pairs = []
    for d1, d2 in itertools.combinations(outs, 2):
        opts = [(f1, f2) for f1 in divisors(nest.dims[d1]) for f2 in divisors(nest.dims[d2])
                if f1 > 1 and f2 > 1 and f1 * f2 <= size]
        for f1, f2 in opts:
            if not any((g1, g2) != (f1, f2) and g1 >= f1 and g2 >= f2 for g1, g2 in opts):
                pairs.append(((d1, f1), (d2, f2)))
    return singles, pairs


def _utilisation(nest: Nest, arch: Arch, spatial) -> float:
    s = spatial_factors(nest, spatial)
    P = temporal_extent(nest, s)
    return nest.points / (math.prod(P.values()) * arch.units)


def spatial_options(nest: Nest, arch: Arch) -> list[tuple]:
    """The unrollings of the mapspace (see the module docstring), each per array axis
    ``((dim, factor), ...)``."""
    if arch.spatial != "auto":
        return [tuple(tuple((d, min(f, nest.dims[d])) for d, f in axis if d in nest.dims)
                      for axis in arch.spatial)]
    per_axis = [_axis_options(nest, size) for size in arch.array]

    def combos(with_pairs: bool):
        lists = [s + (p if with_pairs else []) for s, p in per_axis]
        out = []
        for combo in itertools.product(*lists):
            used = [d for axis in combo for d, _ in axis]
            if len(used) == len(set(used)):
                out.append(tuple(combo))
        return out

    def top(cands):
        u = {c: _utilisation(nest, arch, c) for c in cands}
        best = max(u.values())
        return [c for c in cands if u[c] >= best * (1 - 1e-12)], best

    single, u1 = top(combos(False))
    both, u2 = top(combos(True))
    chosen = both if u2 > u1 * (1 + 1e-12) else single
    if _symmetric(nest):      # OY <-> OX, FY <-> FX maps the nest onto itself: keep one of each pair
        swap = {"OY": "OX", "OX": "OY", "FY": "FX", "FX": "FY"}
        out, seen = [], set()
        for c in chosen:
            norm = tuple(tuple(sorted(axis)) for axis in c)
            twin = tuple(tuple(sorted((swap.get(d, d), f) for d, f in axis)) for axis in c)
            if twin not in seen:
                out.append(c)
            seen.add(norm)
        chosen = out
    return chosen


def _symmetric(nest: Nest) -> bool:
    """True when renaming OY <-> OX and FY <-> FX leaves every dim size and every operand (its
    role, bits, memory and the multiset of its axes) unchanged: mirrored mappings then count alike."""
    swap = {"OY": "OX", "OX": "OY", "FY": "FX", "FX": "FY"}
    dims = nest.dims
    if any(dims.get(a) != dims.get(b) for a, b in swap.items()):
        return False
    for o in nest.operands:
        axes = sorted((a.dim, a.window or "", a.stride) for a in o.axes)
        mirrored = sorted((swap.get(a.dim, a.dim), swap.get(a.window, a.window) or "", a.stride) for a in o.axes)
        if axes != mirrored:
            return False
    return True


# ----------------------------------------------------------------------------- the reference

def _fills(op: Operand, seq) -> float:
    """Fills of a tile below the loops ``seq`` ((dim, bound) innermost first)."""
    total, run, alive = 1, 1, True
    for d, bound in seq:
        total *= bound
        if alive and d not in op.dims:
            run *= bound
        elif d in op.dims and bound > 1:
            alive = False
    return total / run


def _tile(f_levels: list[dict], dims) -> dict:
    return {d: math.prod(f[d] for f in f_levels) for d in dims}


def fits(nest: Nest, arch: Arch, cand: Candidate) -> bool:
    """Capacity: every non-bypassed RF tile in ``rf_bits``; each SRAM's spilled buffer tiles in its
    budget, or in one array step of them when the budget is smaller (a staging FIFO)."""
    return _capacity(nest, arch, cand)[0]


def _capacity(nest, arch, cand):
    dims = nest.order
    fac = dict(cand.factors)
    s = spatial_factors(nest, cand.spatial)
    r = {d: fac[d][0] for d in dims}
    b = {d: fac[d][1] for d in dims}
    rf_bits = sum(o.elements(r) * o.bits for o in nest.operands if o.name not in cand.bypass)
    buf = _tile([s, r, b], dims)
    per_mem: dict[str, float] = {}
    for o in nest.operands:
        if o.spilled:
            per_mem[o.memory] = per_mem.get(o.memory, 0.0) + o.elements(buf) * o.bits / 8
    step = array_step(nest, s)
    ok_rf = rf_bits <= arch.rf_bits
    ok_buf = all(v <= max(arch.budget_bytes(m), step[m]) for m, v in per_mem.items())
    return ok_rf and ok_buf, rf_bits, per_mem


def array_step(nest: Nest, s: dict) -> dict[str, float]:
    """Bytes per SRAM of one array step of its spilled operands (their spatial tiles): what a
    buffer must stage at least, so its capacity is never taken below it (a staging FIFO)."""
    out: dict[str, float] = {}
    for o in nest.operands:
        if o.spilled:
            out[o.memory] = out.get(o.memory, 0.0) + o.elements(s) * o.bits / 8
    return out


def evaluate(nest: Nest, arch: Arch, cand: Candidate, evaluated: int = 1) -> Mapping:
    """The counts, cycles and energy of one mapping (scalar reference of :func:`best`); raises
    ValueError when the factors do not tile the nest or a capacity is exceeded."""
    dims = nest.order
    fac = dict(cand.factors)
    s = spatial_factors(nest, cand.spatial)
    P = temporal_extent(nest, s)
    for d in dims:
        if math.prod(fac[d]) != P[d]:
            raise ValueError(f"dim {d}: factors {fac[d]} do not multiply to {P[d]} (= ceil({nest.dims[d]}/{s[d]}))")
    if not fits(nest, arch, cand):
        raise ValueError("mapping exceeds a capacity (RF bits or buffer budget)")
    r = {d: fac[d][0] for d in dims}
    b = {d: fac[d][1] for d in dims}
    m = {d: fac[d][2] for d in dims}
    order = dict(cand.order)
    seq = {lv: [(d, fac[d][i]) for d in reversed(order[lv])] for i, lv in enumerate(LEVELS)}
    above_rf = seq["buffer"] + seq["dram"]
    f_sp, f_rf, f_arr = s, r, _tile([s, r], dims)
    f_buf, f_full = _tile([s, r, b], dims), _tile([s, r, b, m], dims)
    pes = math.prod(s.values())
    gated = arch.zero != "none"
    executed = nest.points * (nest.density if gated else 1.0)
    acc: list[tuple[str, str, str, float]] = []

    def add(op, mem, action, n):
        if n:
            acc.append((op.name, mem, action, float(n)))

    for o in nest.operands:
        byp = o.name in cand.bypass
        if byp:
            fills, below = _fills(o, seq["rf"] + above_rf), f_sp
        else:
            fills, below = _fills(o, above_rf), f_arr
        moved = fills * o.elements(below)
        bfills = _fills(o, seq["dram"])
        dmoved = bfills * o.elements(f_buf)
        if not o.is_output:
            if not byp:
                add(o, "rf", "write", fills * o.elements(f_rf) * pes)
                add(o, "rf", "read", executed)
            add(o, o.memory, "read", moved)
            if o.spilled:
                add(o, arch.dram, "read", dmoved)
                add(o, o.memory, "write", dmoved)
        else:
            if not byp:
                add(o, "rf", "read", executed)
                add(o, "rf", "write", executed)
            first = first_visits(o, below, f_full) if o.role == "write" else 0
            add(o, o.memory, "write", moved)
            reads = moved - first
            if o.spilled:
                dfirst = first_visits(o, f_buf, f_full) if o.role == "write" else 0
                add(o, arch.dram, "write", dmoved)
                add(o, arch.dram, "read", dmoved - dfirst)
                reads += dmoved
                add(o, o.memory, "write", dmoved - dfirst)
            add(o, o.memory, "read", reads)
    acc = _merge(acc)
    ops = {k: v * nest.points * (nest.density if gated else 1.0) for k, v in nest.ops.items()}
    dense_cycles = math.prod(P.values())
    compute = dense_cycles * (nest.density if arch.zero == "skip" else 1.0)
    traffic: dict[str, list[float]] = {}
    for name, mem, action, n in acc:
        if mem != "rf":
            bits = nest.operand(name).bits
            t = traffic.setdefault(mem, [0.0, 0.0])
            t[0 if action == "read" else 1] += n * bits
    mem_cycles = {mem: float(arch.port(mem).cycles(rw[0], rw[1])) for mem, rw in traffic.items()}
    cycles = max([compute] + list(mem_cycles.values()))
    pe_bits = nest.pe_bits()
    energy = sum(v * arch.price(("pe", k, pe_bits)) for k, v in ops.items())
    energy += sum(n * arch.price((mem, action, nest.operand(name).bits)) for name, mem, action, n in acc)
    return Mapping(
        spatial={d: f for d, f in s.items() if f > 1},
        axes=tuple(tuple(d for d, _ in axis) for axis in cand.spatial),
        factors={lv: {d: fac[d][i] for d in dims} for i, lv in enumerate(LEVELS)},
        order={lv: tuple(order[lv]) for lv in LEVELS},
        bypass=frozenset(cand.bypass), accesses=tuple(acc), ops=ops, compute_cycles=float(compute),
        memory_cycles=mem_cycles, cycles=float(cycles), energy=float(energy),
        utilisation=nest.points / (dense_cycles * arch.units), evaluated=evaluated, candidate=cand)


def _merge(acc):
    out: dict[tuple, float] = {}
    for o, mem, a, n in acc:
        out[(o, mem, a)] = out.get((o, mem, a), 0.0) + n
    return tuple((o, mem, a, n) for (o, mem, a), n in out.items() if n)


# ----------------------------------------------------------------------------- the mapspace

def _bypass_sets(nest: Nest):
    names = [o.name for o in nest.inputs]
    return [frozenset(c) for k in range(len(names) + 1) for c in itertools.combinations(names, k)]


class NoMapping(ValueError):
    """No mapping of the mapspace fits the capacities."""


def mapspace(nest: Nest, arch: Arch) -> Iterator[Candidate]:
    """Every candidate of the documented mapspace (module docstring), unpruned: for tests on small
    nests (its size is the product of the choices). At most :data:`MAX_DRAM_DIMS` dims iterate at
    the DRAM level, or the fewest more for which some candidate fits."""
    for limit in range(MAX_DRAM_DIMS, max(MAX_DRAM_DIMS, len(nest.order)) + 1):
        found = False
        for cand in _mapspace(nest, arch, limit):
            found = True
            yield cand
        if found:
            return


def _mapspace(nest: Nest, arch: Arch, max_dram: int) -> Iterator[Candidate]:
    dims = nest.order
    for sp in spatial_options(nest, arch):
        s = spatial_factors(nest, sp)
        P = temporal_extent(nest, s)
        for byp in _bypass_sets(nest):
            for fs in itertools.product(*(splits(P[d], 3) for d in dims)):
                if sum(f[2] > 1 for f in fs) > max_dram:
                    continue
                fac = dict(zip(dims, fs))
                base = Candidate.make(sp, fac, bypass=byp)
                if not fits(nest, arch, base):
                    continue
                levels = []
                for i, lv in enumerate(LEVELS):
                    active = [d for d in dims if fac[d][i] > 1]
                    idle = tuple(d for d in dims if fac[d][i] == 1)
                    if lv == "rf" and not byp:
                        levels.append([tuple(dims)])
                    else:
                        levels.append([idle + p for p in itertools.permutations(active)])
                for orders in itertools.product(*levels):
                    yield Candidate(base.spatial, base.factors, tuple(zip(LEVELS, orders)), byp)


# ----------------------------------------------------------------------------- the search

class _Search:
    """Vectorised evaluation of the pruned mapspace of one (nest, arch)."""

    def __init__(self, nest: Nest, arch: Arch, max_dram: int = MAX_DRAM_DIMS):
        self.nest, self.arch, self.max_dram = nest, arch, max_dram
        self.dims = nest.order
        self.D = len(self.dims)
        self.ops_ = nest.operands
        rel = np.array([[d in o.dims for d in self.dims] for o in self.ops_], dtype=bool)   # (O, D)
        self.rel = rel
        sigs = [tuple(rel[:, j]) for j in range(self.D)]
        classes = []
        for sg in sigs:
            if sg not in classes:
                classes.append(sg)
        self.classes = classes
        self.dim_class = np.array([classes.index(sg) for sg in sigs])
        self.crel = np.array(classes, dtype=bool).T            # (O, nclasses): class relevant to op
        self.spilled_rel = np.any(rel[[i for i, o in enumerate(self.ops_) if o.spilled]], axis=0)
        allrel = [c for c, sg in enumerate(classes) if all(sg)]
        free = [c for c in range(len(classes)) if c not in allrel]
        # inner -> outer class sequences at one level: free classes permuted, all-relevant outermost
        self.nfree = len(free)
        self.perms = np.array([list(p) + allrel for p in itertools.permutations(free)], dtype=int)

    # -- tilings -----------------------------------------------------------------------------
    def _elements(self, o: Operand, f: np.ndarray) -> np.ndarray:
        """Elements of op ``o``'s box for factor rows ``f`` (n x D)."""
        idx = {d: j for j, d in enumerate(self.dims)}
        out = np.ones(len(f), dtype=np.float64)
        for a in o.axes:
            if a.window is None:
                out *= f[:, idx[a.dim]]
            else:
                out *= (f[:, idx[a.dim]] - 1) * a.stride + f[:, idx[a.window]]
        return out

    def _spf(self, top: int) -> np.ndarray:
        """Smallest prime factor of 0..top (1 for 0 and 1), as a lookup table."""
        t = self.__dict__.get("_spf_table")
        if t is None or len(t) <= top:
            t = np.array([1, 1] + [smallest_prime(v) for v in range(2, top + 1)], dtype=np.int64)
            self._spf_table = t
        return t

    def dram_table(self, s: np.ndarray, P: np.ndarray):
        """Every dram factor vector (n x D) with at most MAX_DRAM_DIMS factors > 1; whether the
        buffer tiles it leaves (s * P / m, independent of the rf split) fit the budgets; and per
        dim whether moving the smallest prime of its dram factor into the buffer still fits."""
        rows = np.ones((1, self.D), dtype=np.int64)
        for j in range(self.D):
            opts = np.array(divisors(int(P[j])), dtype=np.int64)
            n = len(rows)
            rows = np.repeat(rows, len(opts), axis=0)
            rows[:, j] = np.tile(opts, n)
            rows = rows[np.sum(rows > 1, axis=1) <= self.max_dram]
        ones = np.ones_like(rows)
        ok = self._buffer_ok(ones, P[None, :] // rows, s)
        spf = self._spf(int(P.max()))
        movable = np.zeros(rows.shape, dtype=bool)
        for j in range(self.D):
            mj = rows[:, j] > 1
            if mj.any():
                m2 = rows.copy()
                m2[:, j] //= spf[rows[:, j]]
                movable[:, j] = mj & self._buffer_ok(ones, P[None, :] // m2, s)
        return rows, ok, movable

    def rf_table(self, P: np.ndarray, byp: frozenset, ones: np.ndarray):
        """Every rf factor vector (n x D) whose kept tiles fit the RF, rf factor 1 on the dims
        ``ones`` (mask), its RF bits and per dim the RF bits added per unit of multiplier (the RF
        bits are affine in each factor)."""
        rows = np.ones((1, self.D), dtype=np.int64)
        for j in range(self.D):
            if ones[j]:
                continue
            opts = np.array(divisors(int(P[j])), dtype=np.int64)
            n = len(rows)
            rows = np.repeat(rows, len(opts), axis=0)
            rows[:, j] = np.tile(opts, n)
            rows = rows[self._rf_bits(rows, byp) <= self.arch.rf_bits]
        bits = self._rf_bits(rows, byp)
        slope = np.zeros(rows.shape)
        for j in range(self.D):
            r2 = rows.copy()
            r2[:, j] *= 2
            slope[:, j] = self._rf_bits(r2, byp) - bits
        return rows, bits, slope

    def tilings(self, s: np.ndarray, P: np.ndarray, byp: frozenset, dram=None):
        """(R, B, M) rows of the pruned temporal factors for spatial ``s`` and bypass ``byp``:
        rf vectors x dram vectors whose product divides P, the buffer within its capacity
        (:func:`array_step`), minus the rows a dominance rule removes:

        * a dim no spilled operand depends on has dram factor 1 unless it has no buffer loop;
        * no prime of a dram factor fits into a buffer loop of its class (buffer tiles grow);
        * no prime of the buffer factor of a dim no bypassed operand depends on fits in the RF;
        * a dim no kept and every bypassed operand depends on has no rf loop when the buffer is
          feasible without it (its loop is at least as good innermost at the buffer)."""
        Mset, okset, movable = dram if dram is not None else self.dram_table(s, P)
        kept = [i for i, o in enumerate(self.ops_) if o.name not in byp]
        gone = [i for i, o in enumerate(self.ops_) if o.name in byp]
        inner = (~self.rel[kept].any(axis=0) & self.rel[gone].all(axis=0)) if gone else np.zeros(self.D, dtype=bool)
        rest = P[None, :] // Mset                                   # (nm, D) = r * b
        xR, xM = rest[:0], Mset[:0]  # no rows beyond the pair matrix (a staging FIFO is a capacity)
        Rset, bits, slope = self.rf_table(P, byp, inner)
        # the cheap rules on the (rf, dram) pair matrix, before any row is materialised
        div = np.ones((len(Rset), len(Mset)), dtype=bool)
        for j in range(self.D):
            r_j, rest_j = Rset[:, j, None], rest[None, :, j]
            div &= rest_j % r_j == 0
            if not self.spilled_rel[j]:
                div &= (Mset[None, :, j] == 1) | (r_j == rest_j)
        div &= okset[None, :]
        byp_rel = self.rel[gone].any(axis=0) if gone else np.zeros(self.D, dtype=bool)
        spf = self._spf(int(P.max()))
        cap = self.arch.rf_bits
        r32, rest32 = Rset.astype(np.int32), rest.astype(np.int32)
        b_mat = [np.where(div, rest32[None, :, j] // r32[:, j, None], 1) for j in range(self.D)]   # (nr, nm)
        active = {c: np.zeros_like(div) for c in range(len(self.classes))}
        for j in range(self.D):
            active[self.dim_class[j]] |= b_mat[j] > 1
        for j in range(self.D):
            # a prime of the dram factor fits into the buffer loop of its class
            div &= ~(movable[None, :, j] & active[self.dim_class[j]])
            if not byp_rel[j]:
                # a prime of the buffer factor fits into the RF
                b = b_mat[j]
                div &= ~((b > 1) & (bits[:, None] + slope[:, j, None] * (spf[b] - 1) <= cap))
        ir, im = np.nonzero(div)
        R, M = np.concatenate([Rset[ir], xR]), np.concatenate([Mset[im], xM])
        return R, P[None, :] // M // R, M

    def _rf_bits(self, R, byp):
        return sum(self._elements(o, R) * o.bits for o in self.ops_ if o.name not in byp)

    def _buffer_ok(self, R, B, s):
        T = s[None, :] * R * B
        per: dict[str, np.ndarray] = {}
        for o in self.ops_:
            if o.spilled:
                per[o.memory] = per.get(o.memory, 0.0) + self._elements(o, T) * o.bits / 8
        step = array_step(self.nest, dict(zip(self.dims, (int(x) for x in s))))
        ok = np.ones(len(R), dtype=bool)
        for mem, v in per.items():
            ok &= v <= max(self.arch.budget_bytes(mem), step[mem])
        return ok

    # -- candidates --------------------------------------------------------------------------
    def _valid_perms(self, F: np.ndarray) -> np.ndarray:
        """(n x nperm) mask: perms putting the classes of bound 1 (at this level's factors F)
        outermost in ascending order (one representative of orders equal up to bound-1 loops)."""
        nc = len(self.classes)
        cb = np.ones((len(F), nc), dtype=np.int64)
        for j in range(self.D):
            cb[:, self.dim_class[j]] *= F[:, j]
        active = cb > 1                                          # (n, nc)
        ok = np.ones((len(F), len(self.perms)), dtype=bool)
        for q, full_perm in enumerate(self.perms):
            perm = full_perm[:self.nfree]
            act = active[:, perm]                                 # (n, L) in perm order
            # once an inactive class appears, no active class may follow
            seen_idle = np.cumsum(~act, axis=1) > 0
            ok[:, q] &= ~np.any(seen_idle & act, axis=1)
            # inactive classes in ascending class id
            for a in range(len(perm)):
                for b in range(a + 1, len(perm)):
                    if perm[a] > perm[b]:
                        ok[:, q] &= act[:, a] | act[:, b]
        return ok

    def tiling_table(self):
        """Every pruned tiling as arrays (one row each): S, R, B, M (n x D), bypass and spatial
        option indices, plus the valid order masks of each level (n x nperm)."""
        nest, arch = self.nest, self.arch
        out = {k: [] for k in ("S", "R", "B", "M", "byp", "sp", "vr", "vb", "vd")}
        sps = spatial_options(nest, arch)
        byps = _bypass_sets(nest)
        for si, sp in enumerate(sps):
            sd = spatial_factors(nest, sp)
            s = np.array([sd[d] for d in self.dims], dtype=np.int64)
            P = np.array([temporal_extent(nest, sd)[d] for d in self.dims], dtype=np.int64)
            dram = self.dram_table(s, P)
            for bi, byp in enumerate(byps):
                R, B, M = self.tilings(s, P, byp, dram)
                if not len(R):
                    continue
                out["vb"].append(self._valid_perms(B))
                out["vd"].append(self._valid_perms(M))
                out["vr"].append(self._valid_perms(R) if byp else np.eye(len(self.perms), dtype=bool)[[0] * len(R)])
                out["S"].append(np.repeat(s[None, :], len(R), axis=0))
                out["R"].append(R); out["B"].append(B); out["M"].append(M)
                out["byp"].append(np.full(len(R), bi)); out["sp"].append(np.full(len(R), si))
        if not out["R"]:
            raise NoMapping("no mapping fits: the RF cannot hold even unit tiles of the kept operands")
        return {k: np.concatenate(v) for k, v in out.items()}, sps, byps

    def _level_seq(self, F: np.ndarray, q: np.ndarray):
        """Class ids (n x L) and bounds (n x L) of one level's loops, innermost first."""
        nc = len(self.classes)
        cb = np.ones((len(F), nc), dtype=np.float64)
        for j in range(self.D):
            cb[:, self.dim_class[j]] *= F[:, j]
        cls = self.perms[q]                                        # (n, L)
        return cls, np.take_along_axis(cb, cls, axis=1)

    @staticmethod
    def _fills(rel_c: np.ndarray, cls_seqs, bound_seqs):
        """Fills of a tile below the concatenated sequences for one operand (``rel_c`` relevant
        classes), vectorised over candidates."""
        n = len(bound_seqs[0])
        total = np.ones(n)
        run = np.ones(n)
        alive = np.ones(n, dtype=bool)
        for cls, bnd in zip(cls_seqs, bound_seqs):
            for k in range(cls.shape[1]):
                b = bnd[:, k]
                r = rel_c[cls[:, k]]
                total *= b
                run = np.where(alive & ~r, run * b, run)
                alive &= ~r | (b == 1)
        return total / run

    def score(self, T: dict, byps, orders) -> tuple[np.ndarray, np.ndarray]:
        """(energy pJ, cycles) of the rows of ``T`` (tilings) under loop orders: ``orders(i)`` ->
        (rf, buffer, dram) perm indices per row for operand i (the same for every operand: real
        candidates; each operand its own best: a lower bound, the fills being monotone)."""
        nest, arch = self.nest, self.arch
        S, R, B, M = (T[k].astype(np.float64) for k in ("S", "R", "B", "M"))
        n = len(R)
        f_sp, f_arr, f_buf = S, S * R, S * R * B
        full = f_buf * M
        pes = np.prod(S, axis=1)
        gated = arch.zero != "none"
        executed = nest.points * (nest.density if gated else 1.0)
        energy = np.zeros(n)
        traffic: dict[str, list] = {}
        seq_cache: dict = {}

        def seqs(q):
            key = tuple(id(x) for x in q)
            if key not in seq_cache:
                seq_cache[key] = tuple(self._level_seq(F, p) for F, p in zip((R, B, M), q))
            return seq_cache[key]

        def charge(o, mem, action, cnt):
            nonlocal energy
            energy = energy + cnt * arch.price((mem, action, o.bits))
            if mem != "rf":
                t = traffic.setdefault(mem, [np.zeros(n), np.zeros(n)])
                t[0 if action == "read" else 1] = t[0 if action == "read" else 1] + cnt * o.bits

        for i, o in enumerate(self.ops_):
            rel_c = self.crel[i]
            (cr, br), (cb, bb), (cd, bd) = seqs(orders(i))
            byp = np.array([o.name in bs for bs in byps])[T["byp"]]
            f_norf = self._fills(rel_c, [cb, cd], [bb, bd])
            if byp.any():
                f_rf = self._fills(rel_c, [cr, cb, cd], [br, bb, bd])
                fills = np.where(byp, f_rf, f_norf)
                below = np.where(byp, self._elements(o, f_sp), self._elements(o, f_arr))
            else:
                fills, below = f_norf, self._elements(o, f_arr)
            moved = fills * below
            dmoved = self._fills(rel_c, [cd], [bd]) * self._elements(o, f_buf)
            kept = ~byp
            if not o.is_output:
                charge(o, "rf", "write", np.where(kept, f_norf * self._elements(o, R) * pes, 0.0))
                charge(o, "rf", "read", np.where(kept, executed, 0.0))
                charge(o, o.memory, "read", moved)
                if o.spilled:
                    charge(o, arch.dram, "read", dmoved)
                    charge(o, o.memory, "write", dmoved)
            else:
                charge(o, "rf", "read", np.where(kept, executed, 0.0))
                charge(o, "rf", "write", np.where(kept, executed, 0.0))
                first = self._first(o, np.where(byp[:, None], f_sp, f_arr), full) if o.role == "write" else 0.0
                charge(o, o.memory, "write", moved)
                reads = moved - first
                if o.spilled:
                    dfirst = self._first(o, f_buf, full) if o.role == "write" else 0.0
                    charge(o, arch.dram, "write", dmoved)
                    charge(o, arch.dram, "read", dmoved - dfirst)
                    reads = reads + dmoved
                    charge(o, o.memory, "write", dmoved - dfirst)
                charge(o, o.memory, "read", reads)
        pe_bits = nest.pe_bits()
        energy = energy + sum(v * nest.points * (nest.density if gated else 1.0) * arch.price(("pe", k, pe_bits))
                              for k, v in nest.ops.items())
        cycles = np.prod(R * B * M, axis=1) * (nest.density if arch.zero == "skip" else 1.0)
        for mem, (rb, wb) in traffic.items():
            cycles = np.maximum(cycles, arch.port(mem).cycles(rb, wb))
        return energy, cycles

    def own_perm(self, i: int) -> int:
        """A perm putting every class operand i does not depend on innermost (its fewest fills)."""
        for q, perm in enumerate(self.perms):
            r = self.crel[i][perm[:self.nfree]]
            if not np.any(r[:-1] & ~r[1:]):      # relevant never before irrelevant
                return q
        return 0

    def search(self, objective: str):
        """Branch and bound, exact: a lower bound per tiling (each operand with its own best
        order: fills only fall), then every valid order of the tilings in increasing bound."""
        T, sps, byps = self.tiling_table()
        n = len(T["R"])
        own = [np.full(n, self.own_perm(i)) for i in range(len(self.ops_))]
        lb_e, lb_c = self.score(T, byps, lambda i: (own[i], own[i], own[i]))
        lb = objective_value(objective, lb_e, lb_c)
        # the tilings in increasing bound, expanded into every valid order chunk by chunk until
        # the next bound exceeds the best found (exact: nothing later can beat it)
        order = np.argsort(lb, kind="stable")
        nper = T["vr"].sum(axis=1) * T["vb"].sum(axis=1) * T["vd"].sum(axis=1)
        best_v, best_s, best_c, evaluated, start = np.inf, np.inf, None, n, 0
        while start < n and lb[order[start]] <= best_v * (1 + 1e-9):
            stop = start + max(1, int(np.searchsorted(np.cumsum(nper[order[start:]]), CHUNK)))
            stop = min(stop, n)
            alive = order[start:stop]
            alive = alive[lb[alive] <= best_v * (1 + 1e-9)]
            mask = (T["vr"][alive][:, :, None, None] & T["vb"][alive][:, None, :, None]
                    & T["vd"][alive][:, None, None, :])
            t, qr, qb, qd = np.nonzero(mask)
            rows = alive[t]
            C = {k: T[k][rows] for k in ("S", "R", "B", "M", "byp", "sp")}
            e, c = self.score(C, byps, lambda i: (qr, qb, qd))
            value = objective_value(objective, e, c)
            second = e if objective == "latency" else c          # ties: least energy / cycles
            evaluated += len(rows)
            k = int(np.lexsort((second, value))[0])
            if (value[k], second[k]) < (best_v, best_s):
                C.update(pr=qr, pb=qb, pd=qd)
                best_v, best_s = float(value[k]), float(second[k])
                best_c = ({key: v[k:k + 1] for key, v in C.items()}, 0)
            start = stop
        C, k = best_c
        return C, sps, byps, k, best_v, evaluated

    def _first(self, o: Operand, tile: np.ndarray, full: np.ndarray) -> np.ndarray:
        """First visits (vectorised :func:`first_visits`)."""
        idx = {d: j for j, d in enumerate(self.dims)}
        out = np.ones(len(tile))
        for a in o.axes:
            if a.window is None:
                out *= full[:, idx[a.dim]]
            else:
                cols = np.stack([full[:, idx[a.dim]], full[:, idx[a.window]], tile[:, idx[a.dim]],
                                 tile[:, idx[a.window]]], axis=1).astype(np.int64)
                key = np.zeros(len(cols), dtype=np.int64)
                for c in range(4):
                    key = key * (int(cols[:, c].max()) + 1) + cols[:, c]
                _, first, inv = np.unique(key, return_index=True, return_inverse=True)
                vals = np.array([sliding_union(int(u[0]), int(u[1]), a.stride, int(u[2]), int(u[3]))
                                 for u in cols[first]], dtype=np.float64)
                out *= vals[inv.reshape(-1)]
        return out

    def candidate(self, A, sps, byps, k) -> Candidate:
        dims = self.dims
        fac = {d: (int(A["R"][k, j]), int(A["B"][k, j]), int(A["M"][k, j])) for j, d in enumerate(dims)}
        order = {}
        for lv, key, col in (("rf", "pr", 0), ("buffer", "pb", 1), ("dram", "pd", 2)):
            perm = self.perms[A[key][k]]                 # classes innermost first
            inner_first = [d for c in perm for d in dims if self.dim_class[dims.index(d)] == c]
            order[lv] = tuple(reversed(inner_first))
        return Candidate.make(sps[A["sp"][k]], fac, order, byps[A["byp"][k]])


@lru_cache(maxsize=1024)
def best(nest: Nest, arch: Arch, objective: str = "energy") -> Mapping:
    """The mapping of least ``objective`` (``energy`` pJ, ``latency`` cycles or ``edp``) over the
    mapspace, searched exhaustively (exact dominance pruning, vectorised); ties go to the least
    energy (latency) or the fewest cycles (energy, edp); cached per
    (nest, arch, objective). ``evaluated`` = candidates evaluated."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r} not in {OBJECTIVES}")
    for limit in range(MAX_DRAM_DIMS, max(MAX_DRAM_DIMS, len(nest.order)) + 1):
        try:  # the buffers may hold too little for two DRAM loops: the fewest that fit
            search = _Search(nest, arch, limit)
            A, sps, byps, k, value, n = search.search(objective)
            break
        except NoMapping:
            if limit >= len(nest.order):
                raise
    cand = search.candidate(A, sps, byps, k)
    out = evaluate(nest, arch, cand, evaluated=n)
    if not math.isclose(out.objective(objective), value, rel_tol=1e-9, abs_tol=1e-9):
        raise AssertionError(f"vectorised {value} != scalar {out.objective(objective)} for {cand}")
    return out
