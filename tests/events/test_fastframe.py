"""The fused AEDAT 3.1 → frames path must equal read + frame_events exactly."""

import struct

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
