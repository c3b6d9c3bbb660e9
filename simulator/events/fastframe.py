"""Fused AEDAT 3.1 → frames: frames straight from the file's packets, no event array.

:func:`frame_aedat31` gives exactly ``frame_events(aedat31.read(path), ...)`` but never builds
the event array. Packets are read one at a time with ``pread`` into an aligned buffer (memory
stays bounded by the largest packet). Per packet it checks the bytes with four reductions
seen as uint64 (all validity bits set, no pixel >= 128, no negative timestamp, min / max
timestamp), finds each time window's slice of the packet (no search at all when the packet lies
in one window — the usual case; otherwise a binary search whose result is verified by the
slice's min / max timestamps, so unsorted packets are still counted right), turns each event's
first three data bytes into a 16-bit key ``x << 9 | y << 2 | p << 1 | valid`` and counts keys
per window with ``numpy.bincount`` over groups of up to 2**18 events. A group's 65536-key
histogram is reshaped to ``[x, y, p, valid]``, transposed to ``[p, y, x]`` and binned to
``H × W`` with ``numpy.add.reduceat`` (output pixel ``y * H // H_in``, as ``frame_events``);
groups of fewer than 2**14 events (short windows) go through a key → bin lookup table instead.

Count mode (windows by event index, whole recording) takes the same path with windows found
from each packet's event indices. Every packet is checked, also those outside the frames.
Anything the fast path does not cover — invalid events, a sensor larger than 128×128, pixels
outside the sensor, a negative timestamp, an unsorted packet the default window or the search
depends on, no frame window to count into (so no packet would be checked), count mode
restricted to a time window — falls back to the reference path ``frame_events(read(path))``
(``read`` defaults to ``aedat31.read``), which also raises the precise error for corrupt files.

The dataset loader frames DVS Gesture samples (time mode, one ``[t_start, t_end)`` window per
label row) through this path: each call scans the whole recording's packets once, which still
beats decoding the recording into events and masking each window (benchmarks/bench_events.py).
"""

from __future__ import annotations

import os
from bisect import bisect_right

import numpy as np

from tess_sim.simulator.events.core import DVS128, map_file
from tess_sim.simulator.events.formats import aedat31
from tess_sim.simulator.events.framing import LAST, MAX_FRAME_ELEMENTS, check_frame_budget, \
    frame_edges, frame_events

_OUT_OF_RANGE = 0xFF01FE00   # data bits of x >= 128 (bits 24-31) or y >= 128 (bits 9-16)
_I32 = (1 << 31) - 1
_GROUP = 1 << 18    # keys counted per bincount call


class _Fallback(Exception):
    pass


def frame_aedat31(path, n_frames: int | None = None, *, bin_us: int | None = None,
                  events_per_frame: int | None = None,
                  t_start: int | None = None, t_end: int | None = None,
                  sensor_size=DVS128, out_size=None, last: str = "include",
                  mode: str = "time", read=aedat31.read, **kw) -> np.ndarray:
    """Same result as ``frame_events(read(path), n_frames, ...)``, faster and without
    materialising the events. Returns int32 ``[T, 2, H, W]`` counts.

    ``read``: the reader of the reference path, taken when the fused path does not cover the
    file (see the module docstring); it also raises the errors of a bad file. Any reader that
    returns :func:`aedat31.read`'s events or raises (the dataset loader passes
    ``dataset.read_file`` for DVS Gesture, which also refuses pixels outside the DVS128 naming
    the byte)."""
    args = dict(bin_us=bin_us, events_per_frame=events_per_frame, t_start=t_start, t_end=t_end,
                sensor_size=sensor_size, out_size=out_size, last=last, mode=mode,
                where=str(path), **kw)
    h_in, w_in = (int(s) for s in sensor_size)
    h, w = (h_in, w_in) if out_size is None else (int(s) for s in out_size)
    size = bin_us if mode == "time" else events_per_frame
    other = events_per_frame if mode == "time" else bin_us
    simple = (mode in ("time", "count") and not kw and last in LAST and other is None
              and h_in <= 128 and w_in <= 128 and 0 < h <= h_in and 0 < w <= w_in
              and (mode == "time" or (t_start is None and t_end is None))
              and (n_frames is None or (isinstance(n_frames, (int, np.integer)) and n_frames > 0))
              and (size is None or (isinstance(size, (int, np.integer)) and size > 0))
              and (n_frames is not None or size is not None))
    if simple and n_frames is not None:
        check_frame_budget(int(n_frames), h, w, str(path), "n_frames")
    if simple:
        try:
            return _fast(path, n_frames, size, t_start, t_end, h_in, w_in, h, w, last, mode)
        except _Fallback:
            pass
    return frame_events(read(path), n_frames, **args)


def _count_bounds(n, n_frames, size, last, h, w, where):
    """Event-index window bounds for count mode (as in ``frame_events``)."""
    if size is None:
        return (np.arange(n_frames + 1, dtype=np.int64) * n) // n_frames
    full, rem = divmod(n, size)
    if n_frames is not None and full >= n_frames:
        return size * np.arange(n_frames + 1, dtype=np.int64)
    if n_frames is None:
        check_frame_budget(full + (1 if rem and last == "include" else 0), h, w, where,
                           "events_per_frame")
    b = size * np.arange(full + 1, dtype=np.int64)
    return np.append(b, n) if rem and last == "include" else b


def _fast(path, n_frames, bin_us, t_start, t_end, h_in, w_in, h, w, last, mode="time"):
    if mode == "count":
        return _fast_count(path, n_frames, bin_us, h_in, w_in, h, w, last)
    buf = map_file(path)
    packets = [p for p in aedat31.scan_packets(path, buf)
               if p.type == aedat31.POLARITY_EVENT and p.number]
    if any(p.valid != p.number for p in packets):
        raise _Fallback
    # Window defaults from the first event of the first packet and the last of the last one;
    # every packet's min / max timestamp is checked against them below (unsorted -> fallback).
    t_lo = t_hi = None
    if packets:
        f, l_ = packets[0], packets[-1]
        t_lo = (f.ts_overflow << 31) | int(buf[f.body + 4: f.body + 8].view("<i4")[0])
        t_hi = (l_.ts_overflow << 31) | int(buf[l_.body + 8 * l_.number - 4:
                                                 l_.body + 8 * l_.number].view("<i4")[0])
    check_lo, check_hi = t_start is None, t_end is None
    t_start = (t_lo if packets else 0) if t_start is None else int(t_start)
    t_end = ((t_hi + 1) if packets else t_start) if t_end is None else int(t_end)
    if t_end < t_start:
        raise _Fallback
    # A default window is a guess until the packet loop below has checked every packet against
    # it (an unsorted file has events outside it): whatever is decided before that loop from a
    # guessed window (the frame count, the 1 GiB budget) is left to the reference path.
    guessed = check_lo or check_hi
    if bin_us is not None and n_frames is None:
        if guessed and -(-(t_end - t_start) // bin_us) * 2 * h * w > MAX_FRAME_ELEMENTS:
            raise _Fallback
        check_frame_budget(-(-(t_end - t_start) // bin_us), h, w, str(path), "bin_us")
    edges = frame_edges(t_start, t_end, n_frames if bin_us is None else None, bin_us, last,
                        max_windows=n_frames)
    nwin = len(edges) - 1
    T = nwin if n_frames is None else int(n_frames)
    check_frame_budget(T, h, w, str(path), "n_frames")
    used = min(nwin, T)
    if not used and packets:
        raise _Fallback                # no window to count into: the packets would go unchecked
    frames = np.zeros((T, 2, h, w), dtype=np.int32)
    if not packets:
        return frames
    e = [int(v) for v in edges[: used + 1]]
    state = _Keys(frames, h_in, w_in, h, w)
    # Packets are read one by one with pread into an aligned buffer (bounded memory, and the
    # bytes are hot in cache for the passes below).
    pbuf = np.empty(8 * max(p.number for p in packets), dtype=np.uint8)
    fd = os.open(path, os.O_RDONLY)
    try:
        for pk in packets:
            nbytes = 8 * pk.number
            raw = pbuf[:nbytes]
            if os.preadv(fd, [raw], pk.body) != nbytes:
                raise _Fallback                # file changed under us: let the reader report
            _count_packet(raw, pk, e, state, t_start if check_lo else None,
                          t_end if check_hi else None)
    finally:
        os.close(fd)
    state.flush()
    state.fold_acc()
    return frames


def _fast_count(path, n_frames, size, h_in, w_in, h, w, last):
    buf = map_file(path)
    packets = [p for p in aedat31.scan_packets(path, buf)
               if p.type == aedat31.POLARITY_EVENT and p.number]
    if any(p.valid != p.number for p in packets):
        raise _Fallback
    n = sum(p.number for p in packets)
    bounds = _count_bounds(n, n_frames, size, last, h, w, str(path))
    nwin = len(bounds) - 1
    T = nwin if n_frames is None else int(n_frames)
    check_frame_budget(T, h, w, str(path), "n_frames")
    used = min(nwin, T)
    if not used and packets:
        raise _Fallback                # no window to count into: the packets would go unchecked
    frames = np.zeros((T, 2, h, w), dtype=np.int32)
    if not packets:
        return frames
    state = _Keys(frames, h_in, w_in, h, w)
    pbuf = np.empty(8 * max(p.number for p in packets), dtype=np.uint8)
    fd = os.open(path, os.O_RDONLY)
    try:
        c = 0                                   # index of the packet's first event
        for pk in packets:                      # every packet is checked, even after the frames
            nbytes = 8 * pk.number
            raw = pbuf[:nbytes]
            if os.preadv(fd, [raw], pk.body) != nbytes:
                raise _Fallback
            k0 = int(np.searchsorted(bounds, c, side="right")) - 1
            segs = []
            k = k0
            while k < used and bounds[k] < c + pk.number:
                a, b = max(int(bounds[k]), c) - c, min(int(bounds[k + 1]), c + pk.number) - c
                if b > a:
                    segs.append((k, a, b))
                k += 1
            _count_packet(raw, pk, None, state, None, None, segs)
            c += pk.number
    finally:
        os.close(fd)
    state.flush()
    state.fold_acc()
    return frames


class _Keys:
    """Keys (``x << 9 | y << 2 | p << 1 | valid``) of consecutive events of one window,
    counted up to ``_GROUP`` at a time into ``frames[window]``."""

    def __init__(self, frames, h_in, w_in, h, w):
        self.frames, self.buf, self.fill, self.cur = frames, np.empty(_GROUP, np.uint16), 0, -1
        self.h_in, self.w_in, self.h, self.w = h_in, w_in, h, w
        self.lut = None
        self.acc, self.acc_k = None, -1      # key histogram of window acc_k, folded lazily

    def _fold(self, hist):
        """65536-key histogram -> [2, h, w] counts (binned), checking impossible keys."""
        cube = hist.reshape(128, 128, 2, 2)            # [x, y, p, valid]
        if cube[..., 0].any() or cube[self.w_in:].any() or cube[:, self.h_in:].any():
            raise _Fallback
        cube = cube[: self.w_in, : self.h_in, :, 1].transpose(2, 1, 0)
        if self.h != self.h_in:
            cube = np.add.reduceat(cube, [-(-j * self.h_in // self.h) for j in range(self.h)], 1)
        if self.w != self.w_in:
            cube = np.add.reduceat(cube, [-(-j * self.w_in // self.w) for j in range(self.w)], 2)
        return cube

    def flush(self):
        n = self.fill
        if not n:
            return
        keys = self.buf[:n]
        if n >= 1 << 14:       # many events: count keys; fold once per window (fold_acc)
            if self.acc_k != self.cur:
                self.fold_acc()
                self.acc, self.acc_k = np.bincount(keys, minlength=1 << 16), self.cur
            else:
                self.acc += np.bincount(keys, minlength=1 << 16)
        else:                  # few events (short windows): map keys to bins first
            if self.lut is None:
                self.lut = self._fold_lut()
            plane2 = 2 * self.h * self.w
            cnt = np.bincount(self.lut.take(keys), minlength=plane2 + 1)
            if cnt[plane2]:
                raise _Fallback
            self.frames[self.cur] += cnt[:plane2].reshape(2, self.h, self.w)
        self.fill = 0

    def add_many(self, raw, segs):
        """Count the events of several (window, start, stop) slices of ``raw`` at once."""
        if self.lut is None:
            self.lut = self._fold_lut()
        a0, b1 = segs[0][1], segs[-1][2]
        keys = np.left_shift(raw[8 * a0 + 2: 8 * b1: 8], 8, dtype=np.uint16)
        keys |= raw[8 * a0: 8 * b1].view("<u2")[0::4]
        plane2 = 2 * self.h * self.w
        bins = self.lut.take(keys)
        if (bins == plane2).any():
            raise _Fallback
        k0, k1 = segs[0][0], segs[-1][0] + 1
        fi = np.full(b1 - a0, -1, dtype=np.int64)
        for k, a, b in segs:
            fi[a - a0: b - a0] = k - k0
        keep = fi >= 0                 # events between the slices belong to no window
        lin = fi[keep] * plane2 + bins[keep]
        flat = self.frames.reshape(-1)
        flat[k0 * plane2: k1 * plane2] += np.bincount(
            lin, minlength=(k1 - k0) * plane2).astype(np.int32)

    def fold_acc(self):
        """Add the pending key histogram to its frame."""
        if self.acc is not None:
            self.frames[self.acc_k] += self._fold(self.acc)
        self.acc, self.acc_k = None, -1

    def _fold_lut(self):
        """Key -> bin ``p*h*w + y'*w + x'``; impossible keys -> ``2*h*w`` (sentinel)."""
        key = np.arange(1 << 16, dtype=np.int64)
        x, y, p, valid = key >> 9, (key >> 2) & 0x7F, (key >> 1) & 1, key & 1
        b = p * self.h * self.w + (y * self.h // self.h_in) * self.w + x * self.w // self.w_in
        ok = (valid == 1) & (x < self.w_in) & (y < self.h_in)
        return np.where(ok, b, 2 * self.h * self.w).astype(np.int64)


def _count_packet(raw, pk, e, st, lo_bound, hi_bound, segs=None):
    """Check one packet's bytes ``raw`` and add its events' keys to their windows."""
    u64 = raw.view("<u8")              # ts in the high 32 bits, data in the low 32 bits
    both = int(np.bitwise_and.reduce(u64))
    anyb = int(np.bitwise_or.reduce(u64))
    if not both & 1 or anyb & _OUT_OF_RANGE or anyb >> 63:
        raise _Fallback                # invalid event, pixel >= 128, or negative timestamp
    base = pk.ts_overflow << 31
    mn, mx = base | (int(u64.min()) >> 32), base | (int(u64.max()) >> 32)
    if (lo_bound is not None and mn < lo_bound) or (hi_bound is not None and mx >= hi_bound):
        raise _Fallback                # not sorted: the default window was a guess
    if segs is not None:               # count mode: windows by event index, given
        _add_segments(raw, st, segs)
        return
    if mx < e[0] or mn >= e[-1]:
        return
    if e[0] <= mn and mx < e[-1]:
        k0 = bisect_right(e, mn) - 1
        if mx < e[k0 + 1]:             # the whole packet lies in window k0: no search
            segs = [(k0, 0, len(u64))]
        else:
            segs = None
    else:
        segs = None
    if segs is None:
        ts = raw.view("<i4")[1::2]
        local = np.asarray(e, dtype=np.int64) - base
        pos = np.searchsorted(ts, np.clip(local, 0, _I32).astype(np.int32), side="left")
        pos[local > _I32] = len(ts)
        segs = [(int(k), int(pos[k]), int(pos[k + 1])) for k in np.flatnonzero(np.diff(pos))]
        # searchsorted assumes sorted timestamps: verify every event's window instead
        checks = [(0, int(pos[0]), None, e[0]), (int(pos[-1]), len(ts), e[-1], None)]
        checks += [(a, b, e[k], e[k + 1]) for k, a, b in segs]
        for a, b, lo, hi in checks:
            if b > a:
                seg = u64[a:b]
                if lo is not None and base | (int(seg.min()) >> 32) < lo:
                    raise _Fallback
                if hi is not None and base | (int(seg.max()) >> 32) >= hi:
                    raise _Fallback
    _add_segments(raw, st, segs)


def _add_segments(raw, st, segs):
    if len(segs) > 4:                  # many short windows in this packet: one bincount
        st.add_many(raw, segs)
        return
    for k, a, b in segs:
        while a < b:
            if k != st.cur or st.fill == _GROUP:
                st.flush()
                st.cur = k
            m = min(b - a, _GROUP - st.fill)
            out = st.buf[st.fill: st.fill + m]
            np.left_shift(raw[8 * a + 2: 8 * (a + m): 8], 8, out=out, dtype=np.uint16)
            out |= raw[8 * a: 8 * (a + m)].view("<u2")[0::4]
            st.fill += m
            a += m
