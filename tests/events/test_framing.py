"""Framing: brute-force expectations, conservation, partial windows, downsampling, empties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events.core import EVENT_DTYPE
from tess_sim.simulator.events import framing
from tess_sim.simulator.events.framing import frame_events

from .conftest import events_strategy


def brute(ev, T, mode, size, t_start, t_end, hw_in, hw_out, last):
    """Frames by a plain Python loop over events and windows (independent of framing.py)."""
    (hi, wi), (ho, wo) = hw_in, hw_out
    inside = [e for e in ev.tolist() if t_start <= e[0] < t_end]
    wins = []           # list of predicates on (position among inside events, t)
    if mode == "time":
        d = t_end - t_start
        if size is None:
            edges = [t_start + math.ceil(k * d / T) for k in range(T + 1)]
        else:
            edges = list(range(t_start, t_end + 1, size))
            if (d % size) and last == "include":
                edges.append(t_end)
        bounds = list(zip(edges[:-1], edges[1:]))
        wins = [lambda i, t, a=a, b=b: a <= t < b for a, b in bounds]
    else:
        n = len(inside)
        if size is None:
            b = [k * n // T for k in range(T + 1)]
        else:
            b = list(range(0, n + 1, size))
            if (n % size) and last == "include":
                b.append(n)
        wins = [lambda i, t, a=a, c=c: a <= i < c for a, c in zip(b[:-1], b[1:])]
    nT = len(wins) if T is None else T
    out = np.zeros((nT, 2, ho, wo), dtype=np.int64)
    for i, (t, x, y, p) in enumerate(inside):
        for k, w in enumerate(wins[:nT]):
            if w(i, t):
                out[k, p, y * ho // hi, x * wo // wi] += 1
    return out


@settings(max_examples=80, deadline=None)
@given(ev=events_strategy(2000, 15, max_size=60, sorted_t=True),
       mode=st.sampled_from(["time", "count"]),
       T=st.one_of(st.none(), st.integers(1, 7)),
       size=st.one_of(st.none(), st.integers(1, 700)),
       out=st.sampled_from([(16, 16), (4, 4), (6, 6), (5, 3)]),
       last=st.sampled_from(["include", "drop"]), shuffle=st.booleans(),
       chunk=st.sampled_from([5, 1 << 18]),
       window=st.one_of(st.none(), st.tuples(st.integers(0, 1000), st.integers(0, 1500))))
def test_matches_brute_force_and_conserves(ev, mode, T, size, out, last, window, shuffle,
                                           chunk):
    if shuffle:
        ev = ev[np.random.default_rng(len(ev)).permutation(len(ev))]
    if T is None and size is None:
        T = 3
    if mode == "count" and size is not None:
        size = 1 + size % 20
    kw = dict(mode=mode, out_size=out, sensor_size=(16, 16), last=last)
    kw["bin_us" if mode == "time" else "events_per_frame"] = size
    if window is not None:
        t0, t1 = min(window), max(window)
        kw.update(t_start=t0, t_end=t1)
    else:
        t0 = int(ev["t"].min()) if len(ev) else 0
        t1 = int(ev["t"].max()) + 1 if len(ev) else t0
    old, framing.CHUNK = framing.CHUNK, chunk      # small chunks: exercise chunk boundaries
    try:
        fr = frame_events(ev, T, **kw)
    finally:
        framing.CHUNK = old
    exp = brute(ev, T, mode, size, t0, t1, (16, 16), out, last)
    assert fr.dtype == np.int32 and fr.shape == exp.shape
    assert np.array_equal(fr, exp)
    # conservation: with equal splits every event of the window is in some frame
    if size is None:
        assert fr.sum() == sum(1 for t in ev["t"] if t0 <= t < t1)


def test_equal_split_conserves_on_big_random_input():
    rng = np.random.default_rng(0)
    n = 200_000
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ev["t"] = np.sort(rng.integers(0, 10**9, n))
    ev["x"], ev["y"], ev["p"] = rng.integers(0, 128, n), rng.integers(0, 128, n), rng.integers(0, 2, n)
    for mode in ("time", "count"):
        for out in ((128, 128), (32, 32), (48, 48)):
            fr = frame_events(ev, 20, mode=mode, out_size=out)
            assert fr.sum() == n
            # per-polarity totals are conserved too
            assert fr[:, 1].sum() == int(ev["p"].sum())
    # count mode frames hold n // T or n // T + 1 events
    per = frame_events(ev, 7, mode="count").sum(axis=(1, 2, 3))
    assert set(per.tolist()) <= {n // 7, n // 7 + 1}


def test_binning_48_covers_every_pixel_once():
    ev = np.zeros(128 * 128, dtype=EVENT_DTYPE)
    yy, xx = np.mgrid[0:128, 0:128]
    ev["x"], ev["y"], ev["p"] = xx.ravel(), yy.ravel(), 1
    fr = frame_events(ev, 1, out_size=(48, 48))[0, 1]
    assert fr.sum() == 128 * 128
    assert set(np.unique(fr).tolist()) <= {4, 6, 9}     # 2x2, 2x3, 3x3 blocks
    fr32 = frame_events(ev, 1, out_size=(32, 32))[0, 1]
    assert (fr32 == 16).all()


def test_partial_last_window_choices():
    ev = np.zeros(5, dtype=EVENT_DTYPE)
    ev["t"] = [0, 10, 20, 30, 40]
    # bins of 15 µs over [0, 41): [0,15) [15,30) [30,41) partial
    inc = frame_events(ev, bin_us=15, last="include")
    drop = frame_events(ev, bin_us=15, last="drop")
    assert inc.sum(axis=(1, 2, 3)).tolist() == [2, 1, 2]
    assert drop.sum(axis=(1, 2, 3)).tolist() == [2, 1]
    # n_frames with fixed bins: cut or zero-pad to exactly n_frames
    assert frame_events(ev, 5, bin_us=15).sum(axis=(1, 2, 3)).tolist() == [2, 1, 2, 0, 0]
    assert frame_events(ev, 2, bin_us=15).sum(axis=(1, 2, 3)).tolist() == [2, 1]
    c = frame_events(ev, mode="count", events_per_frame=2, last="include")
    assert c.sum(axis=(1, 2, 3)).tolist() == [2, 2, 1]
    assert frame_events(ev, mode="count", events_per_frame=2, last="drop").shape[0] == 2


def test_empty_input_same_shape():
    full = np.zeros(3, dtype=EVENT_DTYPE)
    for kw in (dict(), dict(mode="count"), dict(t_start=0, t_end=100)):
        a = frame_events(full, 6, out_size=(32, 32), **kw)
        b = frame_events(full[:0], 6, out_size=(32, 32), **kw)
        assert a.shape == b.shape == (6, 2, 32, 32) and b.sum() == 0


def test_huge_timestamps_use_exact_edges():
    ev = np.zeros(3, dtype=EVENT_DTYPE)
    ev["t"] = [0, 2**61, 2**62 - 1]
    fr = frame_events(ev, 3)
    assert fr.sum(axis=(1, 2, 3)).tolist() == [1, 1, 1]


@pytest.mark.parametrize("kw,match", [
    (dict(mode="space"), "mode: unknown framing mode"),
    (dict(last="pad"), "last: unknown partial-window choice"),
    (dict(n_frames=None), "n_frames: give n_frames"),
    (dict(n_frames=0), "n_frames: must be a positive integer"),
    (dict(bin_us=0), "bin_us: must be a positive integer"),
    (dict(mode="count", bin_us=5), "bin_us: does not apply"),
    (dict(out_size=(256, 256)), "out_size"),
    (dict(t_start=10, t_end=5), "t_end: window end"),
])
def test_bad_options(kw, match):
    args = dict(n_frames=4)
    args.update(kw)
    with pytest.raises(UserError, match=match):
        frame_events(np.zeros(2, dtype=EVENT_DTYPE), args.pop("n_frames"), **args)


def test_events_outside_sensor():
    ev = np.zeros(1, dtype=EVENT_DTYPE)
    ev["x"] = 200
    with pytest.raises(UserError, match="x: event coordinate"):
        frame_events(ev, 2, where="rec.aedat")


def test_absurd_frame_counts_are_user_errors():
    ev = np.zeros(2, dtype=EVENT_DTYPE)
    ev["t"] = [0, 10**12]
    with pytest.raises(UserError, match="bin_us: would make"):
        frame_events(ev, bin_us=1)
    with pytest.raises(UserError, match="n_frames: would make"):
        frame_events(ev, 10**6, out_size=(128, 128))
    # with n_frames, far-away windows are simply cut: no huge edge array
    assert frame_events(ev, 3, bin_us=1).sum() == 1


def test_negative_coordinates_are_user_errors():
    ev = np.zeros(2, dtype=EVENT_DTYPE)
    ev["y"] = [-1, 3]
    with pytest.raises(UserError, match=r"y: event coordinate y in \[-1, 3\]"):
        frame_events(ev, 2)
