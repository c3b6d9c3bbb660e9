"""The compiled kernels (simulator/functional/_kernels.c, bound by kernels.py) against the numpy
code they replace: bit for bit for the recurrences, pools and im2col (the same operations in
the same order), within rounding for the weight standardisation (sums in double); and the whole
engine compiled against the whole engine on numpy.  The numpy code is itself checked against
brute force and finite differences by the other functional tests."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import nullcontext

import numpy as np
import pytest

from tess_sim.simulator.functional import conv as C
from tess_sim.simulator.functional import kernels
from tess_sim.simulator.functional import neuron as N
from tess_sim.simulator.functional import pool as P
from tess_sim.simulator.functional import standardise as S
from tess_sim.simulator.functional.network import init_weights
from tess_sim.simulator.functional.rules import RuleParams, _eligibility_loop, gradients
from tess_sim.simulator.workload import Neuron, Psi
from tests.functional.nets import conv, net_of, pool, readout

DTYPES = [np.float32, np.float64]
NEURONS = [Neuron(), Neuron(beta=0.9, theta=1.0, v_reset=0.7),
           Neuron(beta=0.8, theta=0.5, reset="zero", psi=Psi(shape="fast_sigmoid", slope=25.0)),
           Neuron(beta=0.3, theta=0.4, psi=Psi(gamma=1.0, width=0.25))]


def _k(dtype):
    k = kernels.get(dtype)
    assert k is not None
    return k


def test_built():
    """The install compiles the kernels on a machine with a C compiler (this suite's machines
    have one): without them every comparison below would compare numpy with itself."""
    if os.environ.get("TESS_SIM_KERNELS") == "numpy":
        pytest.skip("TESS_SIM_KERNELS=numpy: the numpy path was asked for")
    assert kernels.built(), "the compiled kernels were not built: pip install -e . needs gcc"
    with kernels.disabled():
        assert kernels.get(np.float32) is None
    assert kernels.get(np.float32) is not None and kernels.get(np.int32) is None


def test_switch_by_environment():
    code = ("import numpy as np; from tess_sim.simulator.functional import kernels; "
            "print(kernels.get(np.float32) is None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "TESS_SIM_KERNELS": "numpy"}, check=True)
    assert out.stdout.strip() == "True"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", NEURONS, ids=["default", "v_reset", "zero_fast_sigmoid", "narrow"])
@pytest.mark.parametrize("n", [1, 37, 20_000])  # 20,000 > one block of the kernel (16,384)
def test_lif_bitwise(dtype, p, n):
    rng = np.random.default_rng(n)
    cur = (rng.standard_normal((7, n)) * 0.8 + 0.3).astype(dtype)
    ref = [np.empty_like(cur) for _ in range(3)]
    ref_counts = np.zeros(7, dtype=np.int64)
    N._lif_loop(cur, *ref, p, ref_counts)
    got = [np.empty_like(cur) for _ in range(3)]
    counts = np.full(7, 5, dtype=np.int64)  # counts are added to what is there
    kernels.lif(_k(dtype), cur, *got, p, counts, reset=N.reset_value(p))
    for a, b, name in zip(got, ref, ("o", "u", "psi")):
        np.testing.assert_array_equal(a, b, err_msg=name)
    np.testing.assert_array_equal(ref_counts, (ref[0] > 0).sum(axis=1))  # brute force
    np.testing.assert_array_equal(counts - 5, ref_counts)
    assert 0 < ref[0].mean() < 1  # both spikes and silence
    inplace = cur.copy()
    o, ps = np.empty_like(cur), np.empty_like(cur)
    kernels.lif(_k(dtype), inplace, o, inplace, ps, p, reset=N.reset_value(p))  # u over I
    np.testing.assert_array_equal(inplace, ref[1])
    for path in ("compiled", "numpy"):
        with (kernels.disabled() if path == "numpy" else nullcontext()):
            *_, fired = N.lif_sequence(cur, p, with_psi=True, counts=True)
        np.testing.assert_array_equal(fired, ref_counts, err_msg=path)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("params,w0", [(RuleParams(), 0), (RuleParams(0.3, 0.7, 0.5, 2.0), 3),
                                       (RuleParams(lambda_pre=0.0), 1),
                                       (RuleParams(alpha_post=0.0), 2)])
def test_eligibility_bitwise(dtype, params, w0):
    rng = np.random.default_rng(w0)
    T, n = 6, 20_001
    ps = np.maximum(0, rng.standard_normal((T, n))).astype(dtype)
    m = rng.standard_normal((T - w0, n)).astype(dtype)
    e0, e1 = np.empty_like(ps), np.empty_like(ps)
    tr0 = tr1 = None
    if params.alpha_post != 0:
        tr0, tr1 = np.empty_like(ps), np.empty_like(ps)
    _eligibility_loop(m, ps, e0, tr0, w0, params)
    kernels.eligibility(_k(dtype), m, ps, e1, tr1, w0, params)
    np.testing.assert_array_equal(e1, e0)
    if tr0 is not None:
        np.testing.assert_array_equal(tr1, tr0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hw,size", [((8, 6), 2), ((5, 7), 2), ((9, 9), 3), ((4, 4), 4)])
def test_max_pool_bitwise(dtype, hw, size):
    rng = np.random.default_rng(size)
    x = C.channels_first((rng.random((3,) + hw + (5,)) < 0.4).astype(dtype))  # spikes: ties
    x[0, 1] = C.channels_first(rng.random((1,) + hw + (1,)).astype(dtype))[0, 0]
    got, cg = P.pool_forward(x, "max", size)
    with kernels.disabled():
        ref, cr = P.pool_forward(x, "max", size)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(cg[4], cr[4])
    g = C.channels_first(rng.standard_normal(C.channels_last(ref).shape).astype(dtype))
    back = P.pool_backward(g, cg)
    with kernels.disabled():
        back_ref = P.pool_backward(g, cr)
    np.testing.assert_array_equal(back, back_ref)
    assert back.shape == x.shape


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,s,pad,c", [(3, 1, 1, 5), (3, 2, 0, 2), (1, 1, 0, 3), (3, 1, 2, 1),
                                       (5, 2, 2, 4)])
def test_im2col_bitwise(dtype, k, s, pad, c):
    rng = np.random.default_rng(k * 10 + c)
    for x in (C.channels_first(rng.standard_normal((2, 7, 6, c)).astype(dtype)),  # stored NHWC
              rng.standard_normal((2, c, 7, 6)).astype(dtype)):                 # stored NCHW
        got = C.im2col(x, k, s, pad)
        with kernels.disabled():
            ref = C.im2col(x, k, s, pad)
        assert got[1:] == ref[1:]
        np.testing.assert_array_equal(got[0], ref[0])


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("shape", [(6, 5, 3, 3), (33, 2, 1, 1), (4, 40, 3, 3)])
@pytest.mark.parametrize("mean", [0.02, 30.0])  # a mean far from zero: no cancellation
def test_standardisation_matches_numpy(dtype, rtol, shape, mean):
    """W_eff, dL/dW and dL/dgain of the compiled standardisation equal the numpy one computed
    in float64 on the same weights (within rtol of each tensor's scale, or within twice the
    numpy path's own error in ``dtype``, which is larger when a channel's mean is far from
    zero), from weights stored OIHW or HWIO; each gradient comes back in the layout its weights
    came in."""
    rng = np.random.default_rng(shape[0])
    net = net_of((shape[1], 6, 6), [conv("c", shape[0], k=shape[2], p=shape[2] // 2), readout()],
                 classes=2, standardisation="scaled")
    w = {"c": (rng.standard_normal(shape) * 0.1 + mean).astype(dtype),
         "c.gain": (rng.random(shape[0]) + 0.5).astype(dtype)}
    G = rng.standard_normal(shape).astype(dtype)

    def numpy_path(dt):
        with kernels.disabled():
            eff, caches = S.effective_weights(net, w, dt)
            return {"eff": eff["c"], **S.raw_gradients({"c": G.astype(dt)}, caches)}

    exact, own = numpy_path(np.float64), numpy_path(dtype)
    for layout in (w, S.engine_layout(w)):
        eff, caches = S.effective_weights(net, layout)
        assert isinstance(caches["c"], S.CompiledStandardised)
        got = {"eff": eff["c"], **S.raw_gradients({"c": S.engine_layout({"g": G})["g"]}, caches)}
        for key in ("eff", "c", "c.gain"):
            err = np.abs(got[key] - exact[key]).max()
            allowed = max(rtol * np.abs(exact[key]).max(), 2 * np.abs(own[key] - exact[key]).max())
            assert err <= allowed, (key, err, allowed)
        assert (S.hwio(got["c"]) is None) == (S.hwio(layout["c"]) is None)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,s,pad,hw", [(3, 1, 1, (6, 5)), (3, 2, 0, (7, 7)), (1, 1, 0, (4, 3)),
                                        (3, 2, 1, (8, 6)), (5, 2, 2, (9, 7))])
def test_transposed_conv_bitwise(dtype, k, s, pad, hw):
    rng = np.random.default_rng(k + s + pad)
    w = rng.standard_normal((4, 3, k, k)).astype(dtype)
    ho, wo = C.conv_out_hw(*hw, k, s, pad)
    e = C.channels_first(rng.standard_normal((2, ho, wo, 4)).astype(dtype))
    got = C.conv2d_transpose(e, w, hw, s, pad)
    with kernels.disabled():
        ref = C.conv2d_transpose(e, w, hw, s, pad)
    assert got.shape == ref.shape == (2, 3) + hw
    np.testing.assert_array_equal(got, ref)
    # and it is the adjoint of the convolution: <conv(x), e> = <x, conv_transpose(e)>
    x = rng.standard_normal((2, 3) + hw)
    lhs = float((C.conv2d(x, w.astype(np.float64), s, pad) * e).sum())
    assert abs(lhs - float((x * got).sum())) < 1e-4 * max(1.0, abs(lhs))


def test_layout_roundtrip():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((7, 3, 3, 3)).astype(np.float32)
    k = _k(np.float32)
    wt = kernels.to_hwio(k, w)
    np.testing.assert_array_equal(wt, w.transpose(2, 3, 1, 0).reshape(-1, 7))
    np.testing.assert_array_equal(kernels.from_hwio(k, wt, w.shape), w)
    e = S.engine_layout({"w": w, "b": np.ones(7, np.float32)})
    np.testing.assert_array_equal(e["w"], w)
    assert S.hwio(e["w"]) is not None and S.hwio(w) is None


def _net(standardisation):
    return net_of((2, 8, 8), [conv("c1", 5), pool("max", 2), conv("c2", 6), conv("c3", 4, s=2),
                              pool("adaptive_avg", 1), readout()],
                  classes=3, standardisation=standardisation)


@pytest.mark.parametrize("rule", ["bptt", "stllr", "tess"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_engine_bitwise_without_standardisation(rule, dtype):
    net = _net("none")
    w = init_weights(net, 1, dtype, negative_slope=0.0)
    x = (np.random.default_rng(2).random((6, 3, 2, 8, 8)) < 0.4).astype(dtype)
    labels = np.array([0, 2, 1])
    params = RuleParams(window=4, lsg_pool=(2, 1, 1))
    we = S.engine_layout(w)  # one layout for both: it sets the GEMMs' operand order (rounding)
    g1, i1 = gradients(net, rule, params, we, x, labels, dtype, trace=True)
    with kernels.disabled():
        g0, i0 = gradients(net, rule, params, we, x, labels, dtype, trace=True)
    assert g1.keys() == g0.keys() and i1.keys() == i0.keys()
    for key in g0:
        np.testing.assert_array_equal(g1[key], g0[key], err_msg=key)
    for key in i0:
        np.testing.assert_array_equal(i1[key], i0[key], err_msg=key)
    assert i0["spikes"].min() > 0 and float(np.abs(g0["c2"]).sum()) > 0


@pytest.mark.parametrize("rule", ["bptt", "stllr", "tess"])
def test_engine_with_standardisation_float64(rule):
    net = _net("scaled")
    w = init_weights(net, 1, np.float64, negative_slope=0.0)
    x = (np.random.default_rng(2).random((6, 3, 2, 8, 8)) < 0.4).astype(np.float64)
    labels = np.array([0, 2, 1])
    params = RuleParams(window=4, lsg_pool=(2, 1, 1))
    g1, i1 = gradients(net, rule, params, S.engine_layout(w), x, labels, np.float64)
    with kernels.disabled():
        g0, i0 = gradients(net, rule, params, w, x, labels, np.float64)
    np.testing.assert_array_equal(i1["spikes"], i0["spikes"])
    assert g1.keys() == g0.keys() and "c2.gain" in g0
    for key in g0:
        np.testing.assert_allclose(g1[key], g0[key], rtol=1e-9,
                                   atol=1e-12 * np.abs(g0[key]).max(), err_msg=key)
