"""simulator.shapes, the one conv / pool output-size arithmetic and the border-exact fan-out,
against enumerations of window positions and taps (no formula shared with the module)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tess_sim.simulator.network import Pool
from tess_sim.simulator.shapes import conv_out, conv_out_hw, pool_out_hw, pool_window, taps_per_input


def window_starts(n: int, k: int, stride: int, pad: int) -> list[int]:
    """Every first input index o·stride − pad of a window that lies wholly in the padded axis
    [−pad, n + pad), by walking o = 0, 1, 2, ..."""
    starts, o = [], 0
    while o * stride - pad + k <= n + pad:
        starts.append(o * stride - pad)
        o += 1
    return starts


sizes = dict(n=st.integers(1, 40), k=st.integers(1, 9), stride=st.integers(1, 5), pad=st.integers(0, 4))


@settings(max_examples=300, deadline=None)
@given(**sizes)
def test_conv_out_counts_the_window_positions(n, k, stride, pad):
    starts = window_starts(n, k, stride, pad)
    if starts:
        assert conv_out(n, k, stride, pad) == len(starts)
    else:  # the window is larger than the padded input: no position, and conv_out says < 1
        assert k > n + 2 * pad and conv_out(n, k, stride, pad) < 1


@settings(max_examples=100, deadline=None)
@given(h=st.integers(1, 30), w=st.integers(1, 30), k=st.integers(1, 5), stride=st.integers(1, 3),
       pad=st.integers(0, 2))
def test_conv_out_hw_counts_positions_per_axis(h, w, k, stride, pad):
    assume(k <= min(h, w) + 2 * pad)
    assert conv_out_hw(h, w, k, stride, pad) == (len(window_starts(h, k, stride, pad)),
                                                 len(window_starts(w, k, stride, pad)))


@settings(max_examples=300, deadline=None)
@given(**sizes)
def test_taps_per_input_counts_every_tap_inside_the_map(n, k, stride, pad):
    want = np.zeros(n, dtype=np.int64)
    for start in window_starts(n, k, stride, pad):
        for j in range(k):
            if 0 <= start + j < n:          # padding is not an input
                want[start + j] += 1
    got = taps_per_input(n, k, stride, pad)
    assert got.dtype == np.int64 and got.shape == (n,)
    np.testing.assert_array_equal(got, want)
    if pad == 0:                             # no padding: every tap of every window is an input
        assert got.sum() == max(conv_out(n, k, stride, pad), 0) * k


@settings(max_examples=200, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), size=st.integers(1, 8), kind=st.sampled_from(["max", "avg"]))
def test_pool_out_counts_whole_windows(h, w, size, kind):
    """max / avg: non-overlapping size×size windows, trailing rows/columns dropped (floor)."""
    assert pool_window(kind, size, h, w) == (size, size)
    assert pool_out_hw(kind, size, h, w) == (len(window_starts(h, size, size, 0)),
                                             len(window_starts(w, size, size, 0)))


@settings(max_examples=100, deadline=None)
@given(s=st.integers(1, 6), a=st.integers(1, 6), b=st.integers(1, 6))
def test_adaptive_pool_tiles_the_map_exactly(s, a, b):
    h, w = s * a, s * b
    kh, kw = pool_window("adaptive_avg", s, h, w)
    assert pool_out_hw("adaptive_avg", s, h, w) == (s, s)
    assert (kh * s, kw * s) == (h, w)        # s×s windows of kh×kw cover the map, no overlap


@pytest.mark.parametrize("kind,size,h,w,out,window", [
    ("max", 2, 8, 6, (4, 3), 4), ("avg", 3, 9, 9, (3, 3), 9), ("adaptive_avg", 1, 4, 4, (1, 1), 16),
    ("adaptive_avg", 2, 8, 4, (2, 2), 8)])
def test_network_pool_uses_the_shapes(kind, size, h, w, out, window):
    p = Pool("p", kind, size)
    assert p.out_hw(h, w) == out and p.window(h, w) == window
