import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tess_sim.simulator.functional import conv as C
from tess_sim.simulator.functional.pool import pool_backward, pool_forward
from tests.functional import brute


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), s=st.sampled_from([1, 2]), p=st.sampled_from([0, 1]),
       k=st.sampled_from([1, 2, 3]), h=st.integers(3, 7), w=st.integers(3, 7),
       ci=st.integers(1, 3), co=st.integers(1, 3))
def test_conv_forward_corr_transpose_match_loops(seed, s, p, k, h, w, ci, co):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, ci, h, w))
    wt = rng.standard_normal((co, ci, k, k))
    y = C.conv2d(x, wt, s, p)
    np.testing.assert_allclose(y, brute.conv2d(x, wt, s, p), rtol=1e-12, atol=1e-12)
    e = rng.standard_normal(y.shape)
    np.testing.assert_allclose(C.conv2d_weight_grad(x, e, k, s, p),
                               brute.conv2d_weight_grad(x, e, k, s, p), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(C.conv2d_transpose(e, wt, (h, w), s, p),
                               brute.conv2d_transpose(e, wt, (h, w), s, p), rtol=1e-12, atol=1e-12)


def test_conv_bias_and_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    wt = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    y = C.conv2d(x, wt, 2, 1, bias=b)
    assert y.dtype == np.float32
    ref = brute.conv2d(x.astype(float), wt.astype(float), 2, 1) + b[None, :, None, None]
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_maxpool_ties_route_to_first_max_row_major():
    # window 1: all equal -> (0,0); window 2: [[0,1],[1,0]] -> (0,1); window 3: [[0,0],[1,1]] -> (1,0)
    x = np.array([[[[1, 1, 0, 1, 0, 0],
                    [1, 1, 1, 0, 1, 1]]]], dtype=float)
    out, cache = pool_forward(x, "max", 2)
    np.testing.assert_array_equal(out, [[[[1, 1, 1]]]])
    g = np.array([[[[2.0, 3.0, 5.0]]]])
    dx = pool_backward(g, cache)
    expect = np.zeros_like(x)
    expect[0, 0, 0, 0] = 2.0
    expect[0, 0, 0, 3] = 3.0
    expect[0, 0, 1, 4] = 5.0
    np.testing.assert_array_equal(dx, expect)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.sampled_from([2, 3]), h=st.integers(3, 8))
def test_maxpool_backward_matches_loop_on_binary_maps(seed, k, h):
    rng = np.random.default_rng(seed)
    x = (rng.random((2, 2, h, h + 1)) < 0.4).astype(float)  # many ties, odd sizes (floor)
    out, cache = pool_forward(x, "max", k)
    g = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(pool_backward(g, cache), brute.maxpool_backward_first(x, g, k))


@pytest.mark.parametrize("kind,size,kh,kw", [("avg", 2, 2, 2), ("adaptive_avg", 2, 3, 2)])
def test_avg_pools_forward_and_adjoint(kind, size, kh, kw):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 4))
    out, cache = pool_forward(x, kind, size)
    np.testing.assert_allclose(out, brute.avgpool(x, kh, kw), rtol=1e-12)
    # backward is the adjoint of the (linear) forward: <g, P x> == <P^T g, x>
    g = rng.standard_normal(out.shape)
    np.testing.assert_allclose(np.sum(g * out), np.sum(pool_backward(g, cache) * x), rtol=1e-12)
