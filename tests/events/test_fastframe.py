"""The fused AEDAT 3.1 → frames path must equal read + frame_events exactly."""

import os
import re
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events import aedat31, fastframe, frame_events, synthetic
from tess_sim.simulator.events.fastframe import frame_aedat31

from .conftest import events_strategy


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev=events_strategy(3 * 2**31, 127, max_size=80, sorted_t=True),
       shuffle=st.booleans(), packet=st.integers(1, 30),
       T=st.one_of(st.none(), st.integers(1, 9)), bin_us=st.one_of(st.none(), st.integers(2**27, 2**31)),
       out=st.sampled_from([(128, 128), (32, 32), (48, 48), (7, 5)]),
       last=st.sampled_from(["include", "drop"]), count=st.booleans(), epf=st.integers(1, 25),
       window=st.one_of(st.none(), st.tuples(st.integers(0, 2**32), st.integers(0, 2**33))))
def test_fused_equals_reference(tmp_path, ev, shuffle, packet, T, bin_us, out, last, window,
                                count, epf):
    if T is None and bin_us is None:
        T = 4
    if shuffle:
        ev = ev[np.random.default_rng(len(ev)).permutation(len(ev))]
    f = tmp_path / "f.aedat"
    aedat31.write(f, ev, packet_events=packet)
    kw = dict(bin_us=bin_us, out_size=out, last=last)
    if count:
        kw.update(mode="count", bin_us=None, events_per_frame=epf if bin_us else None)
    if window and not count:
        kw.update(t_start=min(window), t_end=max(window))
    ref = frame_events(aedat31.read(f), T, **kw)
    assert np.array_equal(frame_aedat31(f, T, **kw), ref)


def test_fused_large_packets_and_invalid_events(tmp_path):
    rng = np.random.default_rng(1)
    n = 100_000
    ev = np.zeros(n, dtype=aedat31.EVENT_DTYPE)
    ev["t"] = np.sort(rng.integers(0, 5_000_000, n))
    ev["x"], ev["y"], ev["p"] = rng.integers(0, 128, n), rng.integers(0, 128, n), rng.integers(0, 2, n)
    f = tmp_path / "big.aedat"
    aedat31.write(f, ev, packet_events=40_000)
    for T, out in ((20, (32, 32)), (3, (48, 48)), (1, (128, 128))):
        for mode in ("time", "count"):
            assert np.array_equal(frame_aedat31(f, T, out_size=out, mode=mode),
                                  frame_events(ev, T, out_size=out, mode=mode))
    # a packet with an invalid event: the fused path must defer to the reader
    hdr = b"#!AER-DAT3.1\r\n#!END-HEADER\r\n"
    body = struct.pack("<hhiiiiii", 1, 1, 8, 4, 0, 2, 2, 1) + struct.pack(
        "<IiIi", (3 << 17) | (4 << 2) | 1, 10, (5 << 17) | 0, 20)   # 2nd event invalid
    g = tmp_path / "inv.aedat"
    g.write_bytes(hdr + body)
    fr = frame_aedat31(g, 2)
    assert fr.sum() == 1 and fr[0, 0, 4, 3] == 1
    fr = frame_aedat31(g, 2, mode="count")
    assert fr.sum() == 1 and fr[1, 0, 4, 3] == 1      # 1 event: frame 0 gets events 0..-1


def test_fast_path_is_taken_for_ordinary_files(tmp_path):
    """Guard against a silent fallback: the fused path itself must handle plain recordings."""
    ev = synthetic.generate(8, seed=0, duration_us=200_000)
    f = tmp_path / "s.aedat"
    aedat31.write(f, ev, packet_events=3000)
    for mode, size in (("time", None), ("time", 7_000), ("time", 500), ("count", None),
                       ("count", 999), ("count", 50)):
        got = fastframe._fast(f, None, size, None, None, 128, 128, 48, 48, "include", mode) \
            if size else fastframe._fast(f, 10, None, None, None, 128, 128, 48, 48, "include", mode)
        kw = {"bin_us" if mode == "time" else "events_per_frame": size}
        ref = frame_events(ev, None if size else 10, mode=mode, out_size=(48, 48), **kw)
        assert got.shape == ref.shape and np.array_equal(got, ref)


def _both(f, T, **kw):
    """(fused, reference) frames, or the UserError line of each."""
    out = []
    for fn in (lambda: frame_aedat31(f, T, **kw),
               lambda: frame_events(aedat31.read(f), T, where=str(f), **kw)):
        try:
            out.append(fn())
        except UserError as exc:
            out.append(exc.line())
    return out


def test_unsorted_file_whose_guessed_window_holds_no_bin(tmp_path):
    """Found by hypothesis: the first and last events of the file are at t = 0, so the default
    window guessed from them is [0, 1), shorter than one bin: dropped, no frame, and no packet
    was checked. The true window [0, 2**27) is exactly one bin holding all 6 events."""
    ev = np.zeros(6, dtype=aedat31.EVENT_DTYPE)
    ev["t"][2] = 2**27 - 1
    f = tmp_path / "u.aedat"
    aedat31.write(f, ev, packet_events=1)
    fused, ref = _both(f, None, bin_us=2**27, last="drop")
    assert ref.shape == (1, 2, 128, 128) and ref.sum() == 6 and np.array_equal(fused, ref)


def test_unsorted_file_over_the_budget_reports_the_true_frame_count(tmp_path):
    """The guessed window [0, 10**11 + 1) is already over 1 GiB of 1 µs frames; the error must
    give the count of the true window [0, 10**12 + 1), as the reference path does."""
    ev = np.zeros(3, dtype=aedat31.EVENT_DTYPE)
    ev["t"] = [0, 10**12, 10**11]
    f = tmp_path / "b.aedat"
    aedat31.write(f, ev, packet_events=1)
    fused, ref = _both(f, None, bin_us=1)
    assert isinstance(ref, str) and "would make 1000000000001 frames" in ref and fused == ref


def _corrupt_after(tmp_path, n=40, bad=30, packet=10):
    """n sorted events in packets of ``packet``; event ``bad`` gets a negative 32-bit timestamp
    (the reader's error names its byte)."""
    ev = np.zeros(n, dtype=aedat31.EVENT_DTYPE)
    ev["t"] = np.arange(n) * 100
    ev["x"] = np.arange(n) % 128
    f = tmp_path / "c.aedat"
    aedat31.write(f, ev, packet_events=packet)
    raw = bytearray(f.read_bytes())
    body = raw.index(b"#!END-HEADER\r\n") + 14
    off = body + (bad // packet + 1) * 28 + 8 * bad + 4
    struct.pack_into("<i", raw, off, -7)
    f.write_bytes(bytes(raw))
    return f, off


@pytest.mark.parametrize("T,kw", [
    (3, dict(bin_us=1_000, t_start=0, t_end=500, last="drop")),   # no window: nothing counted
    (None, dict(bin_us=1_000, t_start=0, t_end=500, last="drop")),
    (2, dict(mode="count", events_per_frame=50, last="drop")),    # fewer events than one frame
    (1, dict(mode="count", events_per_frame=10)),                 # bad event after the frames
    (2, dict(mode="count")),
    (2, dict(t_start=0, t_end=1_000)),                            # bad event after the window
])
def test_a_bad_packet_outside_the_frames_is_still_an_error(tmp_path, T, kw):
    f, off = _corrupt_after(tmp_path)
    fused, ref = _both(f, T, **kw)
    assert isinstance(ref, str) and f"byte {off}: corrupt AEDAT 3.1 polarity event" in ref
    assert isinstance(fused, str) and fused == ref, fused


def _sorted_events(n, t_max, xy_max, seed=0):
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, dtype=aedat31.EVENT_DTYPE)
    ev["t"] = np.sort(rng.integers(0, t_max, n))
    ev["x"], ev["y"] = rng.integers(0, xy_max, n), rng.integers(0, xy_max, n)
    ev["p"] = rng.integers(0, 2, n)
    return ev


@pytest.mark.parametrize("n,T,bin_us", [(50, 2, None), (40_000, 1, None), (3_000, None, 10)])
def test_sensor_smaller_than_128(tmp_path, n, T, bin_us):
    """sensor_size 64x64: frames equal; one pixel at x = 100 is refused as by frame_events, on
    each way the fused path counts (a key -> bin table for short windows, a 65536-key histogram
    for windows of >= 2**14 events, one bincount for many windows in a packet)."""
    ev = _sorted_events(n, 30_000, 64)
    f = tmp_path / "s.aedat"
    kw = dict(sensor_size=(64, 64), out_size=(16, 16), bin_us=bin_us)
    aedat31.write(f, ev, packet_events=n)
    fused, ref = _both(f, T, **kw)
    assert not isinstance(ref, str) and ref.sum() == n and np.array_equal(fused, ref)
    ev["x"][n // 2] = 100
    aedat31.write(f, ev, packet_events=n)
    fused, ref = _both(f, T, **kw)
    assert isinstance(ref, str) and re.search(r"x in \[\d+, 100\] lies outside the 64x64", ref)
    assert fused == ref


def test_windows_of_more_than_2_18_events(tmp_path):
    """A window's keys are counted 2**18 at a time: later groups add to the same histogram."""
    ev = _sorted_events(600_000, 1_000_000, 128, seed=3)
    f = tmp_path / "big.aedat"
    aedat31.write(f, ev, packet_events=1 << 17)
    for T in (1, 2):
        fused, ref = _both(f, T, out_size=(32, 32))
        assert ref.sum() == len(ev) and np.array_equal(fused, ref)


@pytest.mark.parametrize("ts,window", [
    ([5, 1, 9], None),              # default window guessed [5, 10): t = 1 lies before it
    ([9, 1, 5], None),              # guessed [9, 6): ends before it starts
    ([11, 12, 16, 13, 19], (10, 20)),   # edges 10, 15, 20: the search puts 13 in [15, 20)
    ([16, 11, 17, 19], (10, 20)),       # ... and 16 in [10, 15)
])
def test_unsorted_packets(tmp_path, ts, window):
    """The fused path assumes sorted packets and checks it: here it notices and takes the
    reference path (one packet of 10 events, or of one event each)."""
    ev = np.zeros(len(ts), dtype=aedat31.EVENT_DTYPE)
    ev["t"], ev["x"] = ts, np.arange(len(ts))
    kw = {} if window is None else dict(t_start=window[0], t_end=window[1])
    for packet in (1, 10):
        f = tmp_path / "u.aedat"
        aedat31.write(f, ev, packet_events=packet)
        fused, ref = _both(f, 2, **kw)
        assert ref.sum() == len(ts) and np.array_equal(fused, ref)


@pytest.mark.parametrize("mode", ["time", "count"])
def test_file_shrinking_while_read(tmp_path, monkeypatch, mode):
    """A short pread (the file was cut after its packet headers were read): the fused path
    leaves it to the reader, which reports it; same error line."""
    f = tmp_path / "s.aedat"
    aedat31.write(f, _sorted_events(100, 1_000, 128), packet_events=30)
    real = os.preadv
    monkeypatch.setattr(os, "preadv", lambda fd, bufs, off: real(fd, bufs, off) - 1)
    fused, ref = _both(f, 2, mode=mode)
    assert isinstance(ref, str) and "file shrank while reading" in ref and fused == ref
