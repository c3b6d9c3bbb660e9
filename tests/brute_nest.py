"""Brute-force executor of one mapping's loop nest (the reference of tests/test_mapper.py).

It runs the nest literally: Python loops over every iteration of the dram, buffer and rf loops in
the mapping's order (and every PE), and at each level boundary tracks the current tile of each
operand — the box of element coordinates the loops at that level and below touch for the current
outer iteration (per PE for the RF; over all PEs for the array; whole buffer level for the buffer).
A tile is (re)fetched whenever it is a different tile, i.e. whenever the index range of a dim the
operand depends on moves (Timeloop's semantics: no halo reuse, coincident windows not merged).
Outputs drain every tile they fill; a ``write`` output reads, at each fill, only the elements of
the box that level has seen before (a set of coordinates). Nothing here shares code with the mapper
beyond the data classes.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

LEVELS = ("rf", "buffer", "dram")


def _layout(nest, cand):
    dims = list(nest.dims)
    fac = dict(cand.factors)
    s = {d: 1 for d in dims}
    for axis in cand.spatial:
        for d, f in axis:
            s[d] *= f
    s = {d: min(v, nest.dims[d]) for d, v in s.items()}
    order = dict(cand.order)
    return dims, fac, s, order


def _index(fac, s, d, mi, bi, si, ri):
    r, b, _ = fac[d]
    return ((mi * b + bi) * s[d] + si) * r + ri


def _coords(op, idx):
    out = []
    for a in op.axes:
        if a.window is None:
            out.append(idx[a.dim])
        else:
            out.append(idx[a.dim] * a.stride + idx[a.window])
    return tuple(out)


def _loops(order, fac, level):
    """(dim, bound) of a level's loops, outermost first."""
    i = LEVELS.index(level)
    return [(d, fac[d][i]) for d in order[level]]


def _iterate(loops):
    """Every assignment dim -> index of the loops (outermost first), in execution order."""
    names = [d for d, _ in loops]
    for values in itertools.product(*(range(b) for _, b in loops)):
        yield dict(zip(names, values))


class _Level:
    """The current tile of one operand at one level: counts fills and the elements they move."""

    def __init__(self, op):
        self.op, self.key, self.fills, self.moved, self.seen_reads = op, None, 0, 0, 0
        self.seen = set()

    def visit(self, key, volume, box):
        if key == self.key:
            return
        self.key = key
        self.fills += 1
        self.moved += volume
        elements = set(itertools.product(*(range(lo, hi + 1) for lo, hi in box)))
        self.seen_reads += len(elements & self.seen)
        self.seen |= elements


def _box(op, points):
    """(key, volume, box) of the tile touched by ``points`` (list of dim -> index): key = the set
    of indices of every dim the operand depends on; volume = elements, per axis the distinct
    indices of a plain dim or the padded extent (n_out - 1) * stride + n_window of a sliding one
    over the distinct indices touched; box = per-axis coordinate range (the element set of a
    contiguous tile, for first visits)."""
    dims = sorted(op.dims)
    sets = {d: frozenset(p[d] for p in points) for d in dims}
    key = tuple(sets[d] for d in dims)
    volume = 1
    for a in op.axes:
        if a.window is None:
            volume *= len(sets[a.dim])
        else:
            volume *= (len(sets[a.dim]) - 1) * a.stride + len(sets[a.window])
    coords = [_coords(op, p) for p in points]
    box = tuple((min(c[k] for c in coords), max(c[k] for c in coords)) for k in range(len(op.axes)))
    return key, volume, box


def run(nest, arch, cand):
    """Counter (operand, memory, action) -> elements, and executed points, by brute force."""
    dims, fac, s, order = _layout(nest, cand)
    dram_l, buf_l, rf_l = (_loops(order, fac, lv) for lv in ("dram", "buffer", "rf"))
    pes = list(itertools.product(*(range(s[d]) for d in dims)))
    counts = Counter()
    gated = arch.zero != "none"

    def full_index(outer, si):
        """dim -> index, from level indices in ``outer`` (keys (level, dim)) and PE ``si``."""
        return {d: _index(fac, s, d, outer.get(("dram", d), 0), outer.get(("buffer", d), 0),
                          si[j], outer.get(("rf", d), 0)) for j, d in enumerate(dims)}

    def tag(level, assign):
        return {(level, d): v for d, v in assign.items()}

    # executed points (real, not padding), per PE
    executed = 0
    for md in _iterate(dram_l):
        for bd in _iterate(buf_l):
            for rd in _iterate(rf_l):
                outer = {**tag("dram", md), **tag("buffer", bd), **tag("rf", rd)}
                for pe in pes:
                    idx = full_index(outer, pe)
                    if all(idx[d] < nest.dims[d] for d in dims):
                        executed += 1
    executed = executed * (nest.density if gated else 1.0)

    for op in nest.operands:
        byp = op.name in cand.bypass
        # RF per PE (loops above: buffer, dram), array (all PEs), buffer (loops above: dram)
        rf_levels = [_Level(op) for _ in pes]
        array = _Level(op)
        buffer = _Level(op)
        for md in _iterate(dram_l):
            inner_b = [{**tag("dram", md), **tag("buffer", bd), **tag("rf", rd)}
                       for bd in _iterate(buf_l) for rd in _iterate(rf_l)]
            key, volume, box = _box(op, [full_index(o, pe) for o in inner_b for pe in pes])
            buffer.visit(key, volume, box)
            for bd in _iterate(buf_l):
                if byp:
                    for rd in _iterate(rf_l):
                        outer = {**tag("dram", md), **tag("buffer", bd), **tag("rf", rd)}
                        key, volume, box = _box(op, [full_index(outer, pe) for pe in pes])
                        array.visit(key, volume, box)
                    continue
                inner_r = [{**tag("dram", md), **tag("buffer", bd), **tag("rf", rd)} for rd in _iterate(rf_l)]
                key, volume, box = _box(op, [full_index(o, pe) for o in inner_r for pe in pes])
                array.visit(key, volume, box)
                for k, pe in enumerate(pes):
                    key, volume, box = _box(op, [full_index(o, pe) for o in inner_r])
                    rf_levels[k].visit(key, volume, box)
        home, dram = op.memory, arch.dram
        if not op.is_output:
            if not byp:
                counts[(op.name, "rf", "write")] += sum(lv.moved for lv in rf_levels)
                counts[(op.name, "rf", "read")] += executed
            counts[(op.name, home, "read")] += array.moved
            if op.spilled:
                counts[(op.name, dram, "read")] += buffer.moved
                counts[(op.name, home, "write")] += buffer.moved
        else:
            if not byp:
                counts[(op.name, "rf", "read")] += executed
                counts[(op.name, "rf", "write")] += executed
            counts[(op.name, home, "write")] += array.moved
            counts[(op.name, home, "read")] += array.moved if op.role == "update" else array.seen_reads
            if op.spilled:
                fetched = buffer.moved if op.role == "update" else buffer.seen_reads
                counts[(op.name, dram, "write")] += buffer.moved
                counts[(op.name, home, "read")] += buffer.moved
                counts[(op.name, dram, "read")] += fetched
                counts[(op.name, home, "write")] += fetched
    return Counter({k: v for k, v in counts.items() if v}), executed
