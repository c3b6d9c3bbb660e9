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

How :func:`best` searches (vectorised, exact over the mapspace above):

* Tilings: per spatial option the (rf, dram) pair matrix and its bypass-independent rules are built
  once, over the union of every bypass set's rf vectors (divisibility and buffer-loop activity
  from one table per dim: they are separable); each bypass set filters the pairs (RF capacity,
  its own dominance rules), all sets at once. The bypass sets share the pairs: tile sizes and
  loop-order tables are computed per pair (or per rf / dram vector) and gathered per tiling.
* Fill groups: operands whose relevance to every dim class is the same (e.g. a fused S-TLLR/TESS
  weight gradient's input traces and spikes on the input window, its errors and output traces on
  the output) have the same fills under every loop order. Every count is linear in the fills, and
  a fill is (product of the bounds above) / (the run of the group's irrelevant innermost loops),
  so a tiling's counts are ``K0 + sum over groups of C / run`` with coefficients ``C`` per tiling
  (energy, read and write bits per memory) and runs that depend on the loop order only through
  each level's perm and which classes are active there (tabulated per activity pattern). Bypass
  stays a choice per operand: tying it per group is not exact (tests/test_mapper.py shows a
  five-operand nest where it loses energy).
* Branch and bound over tilings, with lower bounds of increasing cost and strength: ``loose``
  (each group its own best order at every level), ``dram`` (dram order shared), ``bound``
  (buffer and dram orders shared, each group its own rf order); the tilings they leave are
  evaluated exactly over every valid loop order (one dense array per chunk). The search stops when
  the next bound reaches the best found less a relative float noise of :data:`TIE` (1e-13).
  ``Mapping.evaluated`` counts the candidates (tiling x valid loop orders) evaluated exactly.
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
#: candidates (tiling x loop orders) scored per numpy batch of the search
CHUNK = 20000
#: tilings per branch-and-bound step (the first steps are smaller: an early incumbent)
ROWS = 4096
#: a bound within this relative float noise of the best found cannot beat it
TIE = 1e-13
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
    """The divisors of n >= 1, ascending."""
    low = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return low + [n // d for d in reversed(low) if d * d != n]


def smallest_primes(top: int) -> np.ndarray:
    """Smallest prime factor of 0..top (1 for 0 and 1), as a lookup table (a sieve)."""
    spf = np.zeros(top + 1, dtype=np.int64)
    for p in range(2, math.isqrt(top) + 1):
        if spf[p] == 0:                       # p is prime: mark its multiples not yet marked
            multiples = spf[p * p::p]
            multiples[multiples == 0] = p
    spf[spf == 0] = np.arange(top + 1)[spf == 0]
    spf[:2] = 1
    return spf


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


def _axis_options(dims: dict, outs: list, size: int) -> tuple[list, list]:
    """(single-dim, two-dim) assignments of one array axis of ``size`` PEs to the output dims
    ``outs`` (sizes ``dims``)."""
    singles = [()]
    for d in outs:
        n = dims[d]
        best_div = max(f for f in divisors(n) if f <= size)
        if best_div > 1:
            singles.append(((d, best_div),))
        if n > size and best_div < size:
            singles.append(((d, size),))
    pairs = []
    for d1, d2 in itertools.combinations(outs, 2):
        opts = [(f1, f2) for f1 in divisors(dims[d1]) for f2 in divisors(dims[d2])
                if f1 > 1 and f2 > 1 and f1 * f2 <= size]
        for f1, f2 in opts:
            if not any((g1, g2) != (f1, f2) and g1 >= f1 and g2 >= f2 for g1, g2 in opts):
                pairs.append(((d1, f1), (d2, f2)))
    return singles, pairs


def _utilisation(dims: dict, units: int, spatial) -> float:
    s = {d: 1 for d in dims}
    for axis in spatial:
        for d, f in axis:
            s[d] *= f
    cycles = math.prod(-(-n // min(s[d], n)) for d, n in dims.items())
    return math.prod(dims.values()) / (cycles * units)


def spatial_options(nest: Nest, arch: Arch) -> list[tuple]:
    """The unrollings of the mapspace (see the module docstring), each per array axis
    ``((dim, factor), ...)``."""
    if arch.spatial != "auto":
        return [tuple(tuple((d, min(f, nest.dims[d])) for d, f in axis if d in nest.dims)
                      for axis in arch.spatial)]
    outs = tuple(d for d in nest.order if d in nest.output.dims and nest.dims[d] > 1)
    return list(_auto_spatial(tuple(nest.dims.items()), outs, tuple(arch.array), _symmetric(nest)))


@lru_cache(maxsize=4096)
def _auto_spatial(dim_items: tuple, outs: tuple, array: tuple, symmetric: bool) -> tuple:
    """:func:`spatial_options` for ``auto``, from what it depends on (shared by the nests of one
    layer shape: forward, error propagation and weight gradients of every rule)."""
    dims = dict(dim_items)
    units = math.prod(array)
    per_axis = [_axis_options(dims, list(outs), size) for size in array]

    def combos(with_pairs: bool):
        lists = [s + (p if with_pairs else []) for s, p in per_axis]
        out = []
        for combo in itertools.product(*lists):
            used = [d for axis in combo for d, _ in axis]
            if len(used) == len(set(used)):
                out.append(tuple(combo))
        return out

    def top(cands):
        u = {c: _utilisation(dims, units, c) for c in cands}
        best = max(u.values())
        return [c for c in cands if u[c] >= best * (1 - 1e-12)], best

    single, u1 = top(combos(False))
    both, u2 = top(combos(True))
    chosen = both if u2 > u1 * (1 + 1e-12) else single
    if symmetric:      # OY <-> OX, FY <-> FX maps the nest onto itself: keep one of each pair
        swap = {"OY": "OX", "OX": "OY", "FY": "FX", "FX": "FY"}
        out, seen = [], set()
        for c in chosen:
            norm = tuple(tuple(sorted(axis)) for axis in c)
            twin = tuple(tuple(sorted((swap.get(d, d), f) for d, f in axis)) for axis in c)
            if twin not in seen:
                out.append(c)
            seen.add(norm)
        chosen = out
    return tuple(chosen)


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
    total, run, alive, dims = 1, 1, True, op.dims
    for d, bound in seq:
        total *= bound
        if alive and d not in dims:
            run *= bound
        elif d in dims and bound > 1:
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
    """Vectorised exact search of the pruned mapspace of one (nest, arch).

    Fill groups: operands whose relevance to every dim class is the same have the same fills at
    every level under every loop order (only bits, memories and prices differ), so the order
    dependence of a tiling's counts is computed once per group. A level's loop order acts on a
    group only through the *run* of its loops: the product of the bounds of the innermost loops
    irrelevant to the group (``rho``) and whether every loop of the level is irrelevant or of
    bound 1 (``pass``: the run goes on into the next level). Both depend only on the perm and on
    which classes are active (bound > 1) at the level: tabulated per activity pattern.
    """

    def __init__(self, nest: Nest, arch: Arch, max_dram: int = MAX_DRAM_DIMS):
        self.max_dram = max_dram
        self.nest, self.arch = nest, arch
        self.dims = nest.order
        self.D = len(self.dims)
        self.ops_ = nest.operands
        rel = np.array([[d in dims for d in self.dims] for dims in (o.dims for o in self.ops_)], dtype=bool)  # (O, D)
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
        self.Q = len(self.perms)
        groups: list[tuple] = []
        for i in range(len(self.ops_)):
            sg = tuple(self.crel[i])
            if sg not in groups:
                groups.append(sg)
        self.group_of = [groups.index(tuple(self.crel[i])) for i in range(len(self.ops_))]
        self.grel = np.array(groups, dtype=bool)               # (G, nclasses)
        self.G = len(groups)
        self._pattern_tables()
        mems = []
        for o in self.ops_:
            for m in (o.memory,) + ((arch.dram,) if o.spilled else ()):
                if m != "rf" and m not in mems:
                    mems.append(m)
        self.mems = mems
        self.ymap = {}
        for k, m in enumerate(mems):
            self.ymap[(m, "read")], self.ymap[(m, "write")] = 1 + 2 * k, 2 + 2 * k
        self.ports = [arch.port(m) for m in mems]

    # -- loop-order tables ---------------------------------------------------------------------
    def _pattern_tables(self):
        """Per activity pattern (bit c set: class c has bound > 1) and perm: ``valid`` (the perm
        is the representative of the orders equal up to bound-1 loops: idle classes outermost in
        ascending id), and per fill group the classes multiplied into its run (``sel``) and
        whether the run passes the level (``pas``)."""
        nc, nfree, perms = len(self.classes), self.nfree, self.perms
        npat = 1 << nc
        act = (np.arange(npat)[:, None] >> np.arange(nc)) & 1 == 1               # (npat, nc)
        # position i of a perm (innermost first): its class active / relevant to group g
        on = act[:, perms]                                                        # (npat, Q, nc)
        rel = self.grel[:, perms].transpose(1, 0, 2)                              # (Q, G, nc)
        stop = on[:, :, None, :] & rel[None]                                      # (npat, Q, G, nc)
        # the run goes on below position i: no active relevant class inner to it
        going = ~np.logical_or.accumulate(np.concatenate(
            [np.zeros(stop.shape[:-1] + (1,), dtype=bool), stop[..., :-1]], axis=-1), axis=-1)
        sel_at = on[:, :, None, :] & ~rel[None] & going                           # by position
        sel = np.take_along_axis(sel_at, np.argsort(perms, axis=1)[None, :, None, :], axis=-1)
        pas = ~stop.any(axis=-1)                                                  # (npat, Q, G)
        # representative: the idle free classes outermost (after every active one), ascending
        flags = on[:, :, :nfree]
        idle_from = np.logical_or.accumulate(~flags, axis=-1)
        ascending = perms[:, :nfree - 1] < perms[:, 1:nfree] if nfree > 1 else np.ones((len(perms), 0), dtype=bool)
        valid = (~(flags & idle_from).any(axis=-1)
                 & (ascending[None] | flags[:, :, :-1] | flags[:, :, 1:]).all(axis=-1))   # (npat, Q)
        self.valid_t, self.pas_t = valid, pas
        self.sel_c = [np.ascontiguousarray(sel[..., c]) for c in range(nc)]

    def _level(self, F: np.ndarray) -> dict:
        """The loop-order tables of one level's factor rows F (n x D), per distinct row of class
        bounds (row i of F is distinct row ``inv[i]``): ``rho`` (u, Q, G), ``pas`` (u, Q, G),
        ``valid`` (u, Q) and ``best`` (u, G, 3): the largest rho over all perms / the perms passing
        the level / those stopping in it (0 when none)."""
        nc = len(self.classes)
        cb = np.ones((nc, len(F)), dtype=np.int64)                             # (nc, n)
        for j in range(self.D):
            cb[self.dim_class[j]] *= F[:, j]
        # rows repeat their class bounds a lot: compute on the distinct ones, found by a
        # mixed-radix key of the class bounds (decoded back from the distinct keys)
        radix = cb.max(axis=1) + 1
        key = np.zeros(len(F), dtype=np.int64)
        for c in range(nc):
            key = key * radix[c] + cb[c]
        key, inv = np.unique(key, return_inverse=True)
        cb = np.empty((len(key), nc))
        for c in reversed(range(nc)):
            key, cb[:, c] = np.divmod(key, radix[c])
        pat = (cb > 1).astype(np.int64) @ (1 << np.arange(nc, dtype=np.int64))
        rho = np.ones((len(cb), self.Q, self.G))
        for c in range(nc):
            rho *= np.where(self.sel_c[c][pat], cb[:, c, None, None], 1.0)
        pas = self.pas_t[pat]
        # the largest run over perms: any, those passing the level, those stopping in it
        best = np.stack([_qmax(rho, True), _qmax(rho, pas), _qmax(rho, ~pas)], axis=-1)   # (u, G, 3)
        return {"rho": rho, "pas": pas, "valid": self.valid_t[pat], "best": best, "inv": inv.reshape(-1)}

    # -- tilings -----------------------------------------------------------------------------
    def _elements(self, o: Operand, f: np.ndarray) -> np.ndarray:
        """Elements of op ``o``'s box for factor rows ``f`` (n x D); operands of the same axes
        share the result (memo keyed by the axes and the array, which it keeps alive)."""
        memo = self.__dict__.setdefault("_elements_memo", {})
        key = (o.axes, id(f))
        hit = memo.get(key)
        if hit is not None and hit[0] is f:
            return hit[1]
        out = self._elements_of(o, f)
        if len(memo) > 64:
            memo.clear()
        memo[key] = (f, out)
        return out

    def _elements_of(self, o: Operand, f: np.ndarray) -> np.ndarray:
        idx = {d: j for j, d in enumerate(self.dims)}
        out = np.ones(len(f), dtype=np.float64)
        for a in o.axes:
            if a.window is None:
                out = out * f[:, idx[a.dim]]
            else:
                out = out * ((f[:, idx[a.dim]] - 1) * a.stride + f[:, idx[a.window]])
        return out

    def _products(self, cols: list, keep) -> np.ndarray:
        """The vectors (n x D) taking per dim j a value of ``cols[j]`` (ascending), in
        lexicographic order (the last dim fastest), that ``keep`` accepts: built dim by dim,
        ``keep(rows)`` (n x D, the dims not yet chosen at 1) must be False for every extension
        of a rejected row (a monotone condition)."""
        rows = np.ones((1, self.D), dtype=np.int64)
        for j, c in enumerate(cols):
            rows = np.repeat(rows, len(c), axis=0)
            rows[:, j] = np.tile(c, len(rows) // len(c))
            rows = rows[keep(rows)]
        return rows

    def dram_table(self, s: np.ndarray, P: np.ndarray, divs: list, spf: np.ndarray):
        """The dram factor vectors (nm x D, each factor a divisor of P: ``divs``, ascending) with
        at most ``max_dram`` factors > 1, in lexicographic order, whose buffer tiles (s * P / m,
        independent of the rf split) fit the budgets, and per dim (nm x D) whether moving the
        smallest prime (``spf``: table) of its dram factor into the buffer still fits (False
        where the factor is 1)."""
        looping = np.meshgrid(*[(d > 1).astype(np.int8) for d in divs], indexing="ij", sparse=True)
        at = np.flatnonzero(sum(looping).reshape(-1) <= self.max_dram)        # in the full grid
        rows = np.stack([d[i] for d, i in zip(divs, np.unravel_index(at, [len(d) for d in divs]))], axis=1)
        rows = rows[self._buffer_ok(P[None, :] // rows, s)]
        moved = np.repeat(rows[None], self.D, axis=0)                        # (D, nm, D)
        for j in range(self.D):
            moved[j, :, j] //= spf[rows[:, j]]
        fits = self._buffer_ok(P[None, :] // moved.reshape(-1, self.D), s).reshape(self.D, -1)
        return rows, (rows > 1) & fits.T

    def tilings(self, s: np.ndarray, P: np.ndarray, byps):
        """Per bypass set of ``byps``: (R, B, M) rows of the pruned temporal factors for spatial
        ``s``: rf vectors x dram vectors whose product divides P, the buffer within its capacity
        (:meth:`_buffer_ok`), minus the rows a dominance rule removes:

        * a dim no spilled operand depends on has dram factor 1 unless it has no buffer loop;
        * no prime of a dram factor fits into a buffer loop of its class (buffer tiles grow);
        * no prime of the buffer factor of a dim no bypassed operand depends on fits in the RF;
        * a dim no kept and every bypassed operand depends on has no rf loop when the buffer is
          feasible without it (its loop is at least as good innermost at the buffer).

        The (rf, dram) pair matrix (nr x nm: the rf vectors some bypass set's RF holds x the dram
        vectors whose buffer tiles fit) and its bypass-independent rules are built once; both the
        divisibility and the activity of a buffer loop are separable per dim, so each dim
        contributes a table over (its rf divisor, dram vector), gathered by the rf vectors' divisor
        index. Each bypass set then filters the surviving pairs.

        Returns the bypass set (n,) and pair index (n,) of every tiling (bypass set by bypass set,
        each in the pair matrix's row-major order); R, B, M (p x D) of the pairs some bypass set
        keeps; the rf and dram vectors (nr x D, nm x D) and each pair's row in them (p,)."""
        cap = int(self.arch.rf_bits)
        ops = self.ops_
        divs = [np.array(divisors(int(p)), dtype=np.int64) for p in P]
        top = int(P.max())                    # every prime of a factor of P is at most top
        spf = smallest_primes(top)
        Mset, movable = self.dram_table(s, P, divs, spf)
        # every bypass set keeps the outputs: rf vectors whose output tiles overflow the RF are
        # in none (RF tiles only grow with a factor)
        outputs = [o for o in ops if o.is_output]
        Rall = self._products(divs, lambda r: sum(self._elements_of(o, r) * o.bits for o in outputs) <= cap)
        # RF bits (integers) of every operand's RF tile and of every bypass set's kept ones
        bits_op = np.stack([self._elements(o, Rall) * o.bits for o in ops]).astype(np.int64)  # (O, nr)
        keeps = np.array([[o.name not in byp for o in ops] for byp in byps])           # (nb, O)
        rel = self.rel.astype(np.int64)                                                # (O, D)
        kept_rel, byp_rel = keeps @ rel > 0, ~keeps @ rel                              # (nb, D)
        n_byp = (~keeps).sum(axis=1)[:, None]
        # the dims no kept and every bypassed operand depends on (none without a bypassed one)
        inners = ~kept_rel & (byp_rel == n_byp) & (n_byp > 0)                          # (nb, D)
        byp_rel = byp_rel > 0
        bits_r = keeps.astype(np.int64) @ bits_op                                      # (nb, nr)
        rf_loops = (Rall > 1).astype(np.int64) @ inners.T.astype(np.int64)             # (nr, nb)
        ok_r = (bits_r <= cap) & (rf_loops.T == 0)
        Rall_ok = ok_r.any(axis=0)                 # the union of every bypass set's rf vectors
        Rall, bits_op, bits_r, ok_r = Rall[Rall_ok], bits_op[:, Rall_ok], bits_r[:, Rall_ok], ok_r[:, Rall_ok]
        nr = len(Rall)
        doubled = np.repeat(Rall[None], self.D, axis=0)                                # (D, nr, D)
        for j in range(self.D):
            doubled[j, :, j] *= 2
        doubled = doubled.reshape(-1, self.D)
        slope_op = np.stack([(self._elements_of(o, doubled) * o.bits).reshape(self.D, nr).T
                             for o in ops]).astype(np.int64) - bits_op[:, :, None]     # (O, nr, D)
        # RF tiles are multilinear in each rf factor: multiplying r_j by x adds (x - 1) * slope
        # bits. room[set, r, j]: the largest x - 1 that still fits (at most top), for the sets
        # the rule "no prime of the buffer factor of a dim no bypassed operand depends on fits in
        # the RF" applies to (-1 elsewhere: x >= 2)
        slope = np.einsum("bo,ord->brd", keeps.astype(np.int64), slope_op)            # (nb, nr, D)
        free = (cap - bits_r)[:, :, None]
        # (floor of a float quotient of integers below 2**53: exact)
        room = np.where(slope > 0, np.floor(free / np.maximum(slope, 1)), np.where(free >= 0, top, -1))
        room = np.minimum(room, top)
        room[np.broadcast_to(byp_rel[:, None, :], room.shape)] = -1
        rest = P[None, :] // Mset                                   # (nm, D) = r * b
        # per class c, the dram vectors with a prime of a class-c dram factor that fits into a
        # buffer loop of class c; the pairs with such a buffer loop are dominated
        movable_c = [movable[:, self.dim_class == c].any(axis=1) for c in range(len(self.classes))]
        div = np.ones((nr, len(Mset)), dtype=bool)
        busy = [np.zeros((nr, len(Mset)), dtype=bool) if m.any() else None for m in movable_c]
        for j in range(self.D):
            if P[j] == 1:                     # every factor 1: divides, no loop
                continue
            d_j = divs[j][:, None]                                                   # (nd, 1)
            at = np.searchsorted(d_j[:, 0], Rall[:, j])                              # (nr,)
            rest_j = rest[None, :, j]                                                # (1, nm)
            table = rest_j % d_j == 0                                                # (nd, nm)
            if not self.spilled_rel[j]:
                table &= (Mset[None, :, j] == 1) | (d_j == rest_j)
            div &= table[at]
            if busy[self.dim_class[j]] is not None:            # a buffer loop of dim j
                busy[self.dim_class[j]] |= (d_j != rest_j)[at]
        for b, m in zip(busy, movable_c):
            if b is not None:
                div &= ~(b & m[None, :])
        ir, im = np.nonzero(div)
        Rp, Mp = Rall[ir], Mset[im]
        Bp = rest[im] // Rp
        # x - 1 for the smallest prime x of each buffer factor (top + 1: no buffer loop, no room)
        step = np.where(Bp > 1, spf[Bp] - 1, top + 1)                          # (pairs, D)
        ok = ok_r[:, ir]                                                        # (nb, pairs)
        for j in range(self.D):
            # a prime of the buffer factor of a dim no bypassed operand depends on fits in the RF
            if P[j] > 1 and room[:, :, j].max(initial=-1) >= 1:
                ok &= step[None, :, j] > room[:, :, j][:, ir]
        used = ok.any(axis=0)
        sets, at = np.nonzero(ok[:, used])
        return sets, at, Rp[used], Bp[used], Mp[used], (Rall, ir[used]), (Mset, im[used])

    def _buffer_ok(self, B, s):
        """Buffer tiles s * B (rf x buffer factors B) within every SRAM's capacity: its budget, or
        one array step (:func:`array_step`) when the budget is smaller."""
        T = s[None, :] * B
        per: dict[str, np.ndarray] = {}
        for o in self.ops_:
            if o.spilled:
                per[o.memory] = per.get(o.memory, 0.0) + self._elements(o, T) * o.bits / 8
        step = array_step(self.nest, dict(zip(self.dims, (int(x) for x in s))))
        ok = np.ones(len(B), dtype=bool)
        for mem, v in per.items():
            ok &= v <= max(self.arch.budget_bytes(mem), step[mem])
        return ok

    def tiling_table(self):
        """Every pruned tiling as arrays. A tiling is a pair (spatial option, rf and dram factors)
        and a bypass set; the bypass sets share their pairs: ``S``, ``R``, ``B``, ``M`` (p x D)
        per pair, ``pair``, ``byp`` (bypass set index) and ``sp`` (spatial option index), (n,)
        per tiling; the rf and dram vectors of every spatial option (``R_vectors``,
        ``M_vectors``, rows x D) and each pair's row in them (``R_of``, ``M_of``, (p,)): the
        level tables are formed on these few rows (:meth:`search`)."""
        nest, arch = self.nest, self.arch
        out = {k: [] for k in ("S", "R", "B", "M", "pair", "byp", "sp", "R_vectors", "R_of", "M_vectors", "M_of")}
        sps = spatial_options(nest, arch)
        byps = _bypass_sets(nest)
        pairs, nr, nm = 0, 0, 0
        for si, sp in enumerate(sps):
            sd = spatial_factors(nest, sp)
            s = np.array([sd[d] for d in self.dims], dtype=np.int64)
            P = np.array([temporal_extent(nest, sd)[d] for d in self.dims], dtype=np.int64)
            sets, at, R, B, M, (Rv, r_of), (Mv, m_of) = self.tilings(s, P, byps)
            out["S"].append(np.repeat(s[None, :], len(R), axis=0))
            out["R"].append(R); out["B"].append(B); out["M"].append(M)
            out["pair"].append(pairs + at); out["byp"].append(sets); out["sp"].append(np.full(len(at), si))
            out["R_vectors"].append(Rv); out["R_of"].append(nr + r_of)
            out["M_vectors"].append(Mv); out["M_of"].append(nm + m_of)
            pairs, nr, nm = pairs + len(R), nr + len(Rv), nm + len(Mv)
        if not pairs:
            raise NoMapping("no mapping fits: the RF cannot hold even unit tiles of the kept operands")
        return {k: np.concatenate(v) for k, v in out.items()}, sps, byps

    # -- scoring -----------------------------------------------------------------------------
    def coefficients(self, T: dict, byps):
        """Every count of a tiling is linear in the fills of its operands' tiles, and a fill is
        (product of the bounds above) / (run of the group's irrelevant loops). Per tiling: the
        order-independent part ``K0`` (Y, n) and the coefficients ``C`` of the reciprocal runs
        of each group (0: buffer + dram loops, the RF tile's fills; 1: rf + buffer + dram loops, a
        bypassed operand's; 2: dram loops, the buffer tile's), for Y = energy (pJ), then read and
        write bits of every memory in :attr:`mems`: a dict (y, g, k) -> column (n,) of the columns
        not all zero (:meth:`values` gathers a chunk's rows from them); the compute cycles (n,).
        Tile sizes are computed per pair (:meth:`tiling_table`) and gathered per tiling."""
        nest, arch = self.nest, self.arch
        S, R, B, M = (T[k].astype(np.float64) for k in ("S", "R", "B", "M"))     # (p, D)
        pair = T["pair"]
        n = len(pair)
        totM = _row_product(M)
        totBM = _row_product(B) * totM
        totRBM = _row_product(R) * totBM
        f_sp, f_arr, f_buf = S, S * R, S * R * B
        full = f_buf * M
        pes = _row_product(S)
        gated = arch.zero != "none"
        executed = nest.points * (nest.density if gated else 1.0)
        nY = 1 + 2 * len(self.mems)
        terms: dict[tuple, list] = {}          # (y, g, k) or (y, None, None) -> [(factor, amount)]
        bypassed = np.array([[o.name in bs for bs in byps] for o in self.ops_], dtype=bool)

        def charge(o, g, mem, action, k, amount):
            key = (g, k) if k is not None else (None, None)
            terms.setdefault((0,) + key, []).append((arch.price((mem, action, o.bits)), amount))
            if mem != "rf":
                terms.setdefault((self.ymap[(mem, action)],) + key, []).append((float(o.bits), amount))

        for i, o in enumerate(self.ops_):       # amounts per tiling (kept or bypassed: 1.0 or 0.0)
            g = self.group_of[i]
            byp = bypassed[i][T["byp"]]
            kf = (~byp).astype(np.float64)
            dmoved = (self._elements(o, f_buf) * totM)[pair]
            if not o.is_output:
                arr = self._elements(o, f_arr) * totBM
                charge(o, g, "rf", "write", 0, kf * (self._elements(o, R) * pes * totBM)[pair])
                charge(o, g, "rf", "read", None, kf * executed)
                charge(o, g, o.memory, "read", 0, kf * arr[pair])
                if byp.any():
                    charge(o, g, o.memory, "read", 1, byp * (self._elements(o, f_sp) * totRBM)[pair])
                if o.spilled:
                    charge(o, g, arch.dram, "read", 2, dmoved)
                    charge(o, g, o.memory, "write", 2, dmoved)
            else:                     # the output: never bypassed
                arr = (self._elements(o, f_arr) * totBM)[pair]
                charge(o, g, "rf", "read", None, np.full(n, executed))
                charge(o, g, "rf", "write", None, np.full(n, executed))
                charge(o, g, o.memory, "write", 0, arr)
                charge(o, g, o.memory, "read", 0, arr)
                if o.role == "write":
                    charge(o, g, o.memory, "read", None, -self._first(o, f_arr, full)[pair])
                if o.spilled:
                    for mem, action in ((arch.dram, "write"), (arch.dram, "read"), (o.memory, "read"),
                                        (o.memory, "write")):
                        charge(o, g, mem, action, 2, dmoved)
                    if o.role == "write":
                        dfirst = self._first(o, f_buf, full)[pair]
                        charge(o, g, arch.dram, "read", None, -dfirst)
                        charge(o, g, o.memory, "write", None, -dfirst)
        C: dict[tuple, np.ndarray] = {}
        K0 = np.zeros((nY, n))
        part = np.empty(n)
        for (y, g, k), parts in terms.items():
            col = K0[y] if g is None else np.zeros(n)
            for factor, amount in parts:
                col += np.multiply(factor, amount, out=part)
            if g is not None and col.any():
                C[(y, g, k)] = col
        pe_bits = nest.pe_bits()
        K0[0] += sum(v * nest.points * (nest.density if gated else 1.0) * arch.price(("pe", k, pe_bits))
                     for k, v in nest.ops.items())
        # every factor is an integer (and so is every product below 2**53): totRBM is exactly
        # the product of the temporal bounds
        compute = totRBM[pair] * (nest.density if arch.zero == "skip" else 1.0)
        return K0, C, compute

    def _need(self, objective: str) -> list[int]:
        if objective == "energy":
            return [0]
        traffic = list(range(1, 1 + 2 * len(self.mems)))
        return traffic if objective == "latency" else [0] + traffic

    def for_objective(self, coef, objective: str) -> dict:
        """The coefficients ``objective`` needs, stacked for :meth:`values` to gather a chunk's rows
        in one step: ``K`` (len(need), n) the order-independent parts of the Y rows ``need``
        (energy, or the read and write bits per memory, or both), ``C`` (len(terms), n) the
        non-zero coefficient columns ``terms`` ((y, g, k), y outer), ``compute`` (n,) cycles."""
        K0, C, compute = coef
        need = self._need(objective)
        terms = [(y, g, k) for y in need for g in range(self.G) for k in range(3) if (y, g, k) in C]
        stacked = np.stack([C[t] for t in terms]) if terms else np.zeros((0, K0.shape[1]))
        return {"objective": objective, "need": need, "terms": terms, "K": K0[need], "C": stacked,
                "compute": compute}

    def values(self, rows, lv, coef: dict, mode: str):
        """Objective (``coef``: :meth:`for_objective`) of ``rows`` (tiling indices; None: every
        row) under loop orders, per ``mode``:

        * ``loose``: every group its own best order at every level (its largest run);
        * ``dram``: the dram order shared, every group its own buffer and rf orders;
        * ``bound``: the buffer and dram orders shared, every group its own rf order (exact when
          at most one group's rf order matters);
        * ``plain``: exact, rows without bypass (the rf order changes nothing: perm 0);
        * ``bypass``: exact, every rf order.

        The first three are lower bounds (a group's own best order gives each of its counts its
        least value; every objective is monotone in every count). Returns (min per row,
        (qr, qb, qd) argmin, valid combinations per row) -- the last two for the exact modes,
        which skip invalid (non-representative) orders: they repeat a valid order's counts."""
        Q, objective, terms = self.Q, coef["objective"], coef["terms"]
        at = {level: t["inv"] if rows is None else t["inv"][rows] for level, t in lv.items()}
        n = len(at["R"])
        tables: dict[tuple, np.ndarray] = {}

        def get(level, what):           # one level table of these rows (rho, pas, valid, best)
            if (level, what) not in tables:
                tables[(level, what)] = lv[level][what][at[level]]
            return tables[(level, what)]
        shape = {"loose": (n,), "dram": (n, Q), "bypass": (n, Q, Q, Q)}.get(mode, (n, 1, Q, Q))
        runs: dict[tuple, np.ndarray] = {}

        def run(g, k):
            """Group g's run of the fills of coefficient k (0: buffer + dram, bd; 1: rf + buffer +
            dram, rbd; 2: dram, d) under the orders of ``mode``, broadcastable to ``shape``."""
            if (g, k) in runs:
                return runs[(g, k)]
            if k == 2:
                if mode == "loose":
                    out = get("M", "best")[:, g, 0]                               # (n,)
                elif mode == "dram":
                    out = get("M", "rho")[:, :, g]                                # (n, Q)
                else:
                    out = get("M", "rho")[:, None, None, :, g]                    # (n, 1, 1, Q)
            elif k == 0:
                d = run(g, 2)
                if mode in ("loose", "dram"):
                    xb = get("B", "best")
                    lead = (slice(None),) + (None,) * (d.ndim - 1)
                    out = np.maximum(xb[(*lead, g, 1)] * d, xb[(*lead, g, 2)])
                else:
                    rd, rb, pb = get("M", "rho"), get("B", "rho"), get("B", "pas")
                    out = (rb[:, :, None, g] * np.where(pb[:, :, None, g], rd[:, None, :, g], 1.0))[:, None]
            else:
                bd = run(g, 0)
                if mode in ("loose", "dram", "bound"):
                    xr = get("R", "best")
                    lead = (slice(None),) + (None,) * (bd.ndim - 1)
                    out = np.maximum(xr[(*lead, g, 1)] * bd, xr[(*lead, g, 2)])
                elif mode == "bypass":
                    rr, pr = get("R", "rho"), get("R", "pas")
                    out = rr[:, :, None, None, g] * np.where(pr[:, :, None, None, g], bd, 1.0)
                else:
                    out = bd                                  # unused: no bypassed operand
            runs[(g, k)] = out
            return out
        inv = {(g, k): 1.0 / run(g, k) for _, g, k in terms}
        K, C, compute = coef["K"], coef["C"], coef["compute"]
        if rows is not None:
            K, C, compute = K[:, rows], C[:, rows], compute[rows]
        lead = (slice(None),) + (None,) * (len(shape) - 1)
        Y = []
        for yi, y in enumerate(coef["need"]):
            acc = None
            for ti, (yy, g, k) in enumerate(terms):
                if yy != y:
                    continue
                part = C[ti][lead] * inv[(g, k)]
                if acc is None:
                    acc = np.add(K[yi][lead], part, out=np.empty(shape))
                else:
                    acc += part
            if acc is None:
                acc = np.broadcast_to(K[yi][lead], shape)
            Y.append(acc.reshape(n, -1))
        if objective == "energy":
            value = Y[0]
        else:
            base = 1 if objective == "edp" else 0
            cycles = np.broadcast_to(compute[:, None], Y[0].shape)
            for k, port in enumerate(self.ports):
                cycles = np.maximum(cycles, port.cycles(Y[base + 2 * k], Y[base + 2 * k + 1]))
            value = cycles if objective == "latency" else Y[0] * cycles
        if mode in ("loose", "dram", "bound"):
            return value.min(axis=1), None, 0
        vb, vd = get("B", "valid"), get("M", "valid")
        vrr = get("R", "valid") if mode == "bypass" else np.ones((n, 1), dtype=bool)
        valid = (vrr[:, :, None, None] & vb[:, None, :, None] & vd[:, None, None, :]).reshape(n, -1)
        value = np.where(valid, value, np.inf)
        k = np.argmin(value, axis=1)
        qr, rem = np.divmod(k, Q * Q)
        qb, qd = np.divmod(rem, Q)
        return value[np.arange(n), k], (qr, qb, qd), int(valid.sum())

    def search(self, objective: str):
        """Branch and bound, exact: the tilings in increasing ``loose`` bound (:meth:`values`);
        per chunk the tighter ``dram`` and ``bound`` bounds, then every valid order of the rows
        they leave, until the next cheap bound reaches the best found (nothing later can beat it by
        more than the float noise :data:`TIE`)."""
        T, sps, byps = self.tiling_table()
        n = len(T["pair"])
        lv = {"R": self._level(T["R_vectors"]), "B": self._level(T["B"]), "M": self._level(T["M_vectors"])}
        lv["R"]["inv"] = lv["R"]["inv"][T["R_of"]]
        lv["M"]["inv"] = lv["M"]["inv"][T["M_of"]]
        for t in lv.values():                 # distinct row of each tiling (not of its pair)
            t["inv"] = t["inv"][T["pair"]]
        coef = self.for_objective(self.coefficients(T, byps), objective)
        self.__dict__.pop("_elements_memo", None)
        lb = self.values(None, lv, coef, "loose")[0]
        order = np.argsort(lb, kind="stable")
        has_byp = np.array([bool(b) for b in byps])[T["byp"]]
        best_v, best_at, evaluated, start, step = np.inf, None, 0, 0, 16
        combos = {"plain": self.Q ** 2, "bypass": self.Q ** 3}

        def may_beat(bound):      # until a first mapping is scored, every row may (even at inf)
            return np.ones(len(bound), dtype=bool) if best_at is None else bound < best_v * (1 - TIE)

        while start < n and may_beat(lb[order[start:start + 1]])[0]:
            rows = order[start:start + step]
            start += len(rows)
            step = min(4 * step, ROWS)
            rows = rows[may_beat(lb[rows])]
            for mode, width in (("dram", self.Q), ("bound", self.Q ** 2)):
                if self.Q > 1 and len(rows):
                    lb2 = np.concatenate([self.values(c, lv, coef, mode)[0]
                                          for c in _chunks(rows, CHUNK // width)])
                    rows = rows[may_beat(lb2)]
            for mode, sub in (("plain", rows[~has_byp[rows]]), ("bypass", rows[has_byp[rows]])):
                for c in _chunks(sub, CHUNK // combos[mode]):
                    v, (qr, qb, qd), nvalid = self.values(c, lv, coef, mode)
                    evaluated += nvalid
                    k = int(np.argmin(v))
                    if v[k] < best_v or best_at is None:
                        best_v, best_at = float(v[k]), (int(c[k]), int(qr[k]), int(qb[k]), int(qd[k]))
        return T, sps, byps, best_at, best_v, evaluated

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

    def candidate(self, T, sps, byps, at) -> Candidate:
        row, qr, qb, qd = at
        dims = self.dims
        p = T["pair"][row]
        fac = {d: (int(T["R"][p, j]), int(T["B"][p, j]), int(T["M"][p, j])) for j, d in enumerate(dims)}
        order = {}
        for lv, q in (("rf", qr), ("buffer", qb), ("dram", qd)):
            perm = self.perms[q]                 # classes innermost first
            inner_first = [d for c in perm for d in dims if self.dim_class[dims.index(d)] == c]
            order[lv] = tuple(reversed(inner_first))
        return Candidate.make(sps[T["sp"][row]], fac, order, byps[T["byp"][row]])


def _qmax(rho: np.ndarray, mask) -> np.ndarray:
    """max over perms (axis 1 of (n, Q, G)) of ``rho`` where ``mask``, else 0 (a loop of
    elementwise maxima: numpy reduces a short middle axis slowly)."""
    out = np.zeros((rho.shape[0], rho.shape[2]))
    for q in range(rho.shape[1]):
        out = np.maximum(out, rho[:, q] if mask is True else np.where(mask[:, q], rho[:, q], 0.0))
    return out


def _row_product(X: np.ndarray) -> np.ndarray:
    """Product over the columns of X (n x D), column by column (numpy's reduction along a short
    last axis is slow)."""
    out = X[:, 0].copy()
    for j in range(1, X.shape[1]):
        out *= X[:, j]
    return out


def _chunks(rows: np.ndarray, size: int):
    size = max(1, int(size))
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


@lru_cache(maxsize=1024)
def best(nest: Nest, arch: Arch, objective: str = "energy") -> Mapping:
    """The mapping of least ``objective`` (``energy`` pJ, ``latency`` cycles or ``edp``) over the
    mapspace, searched exhaustively (exact dominance pruning, vectorised branch and bound); cached
    per (nest, arch, objective). ``evaluated`` = candidates (tiling x valid loop orders) whose
    objective was computed exactly."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r} not in {OBJECTIVES}")
    for limit in range(MAX_DRAM_DIMS, max(MAX_DRAM_DIMS, len(nest.order)) + 1):
        try:  # the buffers may hold too little for two DRAM loops: the fewest that fit
            search = _Search(nest, arch, limit)
            T, sps, byps, at, value, n = search.search(objective)
            break
        except NoMapping:
            if limit >= len(nest.order):
                raise
    cand = search.candidate(T, sps, byps, at)
    out = evaluate(nest, arch, cand, evaluated=n)
    if not math.isclose(out.objective(objective), value, rel_tol=1e-9, abs_tol=1e-9):
        raise AssertionError(f"vectorised {value} != scalar {out.objective(objective)} for {cand}")
    return out
