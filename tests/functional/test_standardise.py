"""Scaled weight standardisation (docs/math.md §1a) against independent derivations, float64:

* W_eff from its definition, written out per channel with numpy's own mean and unbiased var;
* the backward (raw W and gain) against central finite differences of <R, W_eff(W, gain)>;
* BPTT through the standardisation: the gradients of raw W and gain against central finite
  differences of the loss (smooth surrogate forward, as tests/functional/test_bptt_fd.py);
* S-TLLR, TESS and the readout control: the rule's signal computed on the same net without
  standardisation at weights W_eff, carried to raw W and gain, against finite differences of
  <G_eff, W_eff(W, gain)> — and the forward of both nets spike for spike.
"""

from __future__ import annotations

import numpy as np
import pytest

from tess_sim.simulator.functional.network import forward, weight_shapes
from tess_sim.simulator.functional.rules import RuleParams, bptt_loss, gradients
from tess_sim.simulator.functional.standardise import WS_EPS, effective_weights, standardise, standardise_grad
from tests.functional.nets import conv, linear, net_of, pool, readout
from tests.functional.test_bptt_fd import draw_safe

H = 1e-6


def _layers():
    return [conv("c1", 3, k=3, s=1, p=1, bias=True), pool("max", 2), conv("c2", 2, k=2, s=2, p=1),
            linear("f1", 5, bias=True), readout()]


def _nets():
    ws = net_of((2, 6, 6), _layers(), classes=3, standardisation="scaled")
    plain = net_of((2, 6, 6), _layers(), classes=3)
    return ws, plain


def _fd(f, arrays: dict, name: str) -> np.ndarray:
    """Central differences of the scalar f(arrays) in every element of arrays[name]."""
    out = np.zeros(arrays[name].shape)
    for idx in np.ndindex(*out.shape):
        plus = {k: v.copy() for k, v in arrays.items()}
        minus = {k: v.copy() for k, v in arrays.items()}
        plus[name][idx] += H
        minus[name][idx] -= H
        out[idx] = (f(plus) - f(minus)) / (2 * H)
    return out


def _rel(a, b) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


@pytest.mark.parametrize("gamma", [1.0, 2.74])
def test_w_eff_is_its_definition_per_channel(gamma):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3, 3)) * 0.2 + 0.05
    gain = rng.uniform(0.5, 1.5, 4)
    eff, _ = standardise(w, gain, gamma)
    for k in range(4):
        v = w[k].ravel()
        expect = gamma * gain[k] * (v - v.mean()) / np.sqrt(np.var(v, ddof=1) * v.size + WS_EPS)
        np.testing.assert_allclose(eff[k].ravel(), expect, rtol=1e-13, atol=1e-15)
        assert abs(eff[k].mean()) < 1e-12


@pytest.mark.parametrize("shape,gamma", [((3, 2, 2, 2), 1.0), ((4, 6), 1.0), ((3, 2, 2, 2), 2.74)])
def test_backward_equals_finite_differences(shape, gamma):
    rng = np.random.default_rng(1)
    params = {"w": rng.standard_normal(shape) * 0.3, "g": rng.uniform(0.5, 1.5, shape[0])}
    R = rng.standard_normal(shape)

    def f(p):
        return float((R * standardise(p["w"], p["g"], gamma)[0]).sum())

    dw, dg = standardise_grad(R, standardise(params["w"], params["g"], gamma)[1])
    assert _rel(dw, _fd(f, params, "w")) < 1e-7
    assert _rel(dg, _fd(f, params, "g")) < 1e-7
    assert abs(dw.reshape(shape[0], -1).sum(axis=1)).max() < 1e-10  # a shift of W[k] changes nothing


def test_bptt_gradients_of_raw_w_and_gain_equal_finite_differences():
    net, _ = _nets()
    assert [b.standardised for b in net.blocks] == [True, True, True] and not net.readout.standardised
    w, x, labels = draw_safe(net, 3)
    grads, _ = gradients(net, "bptt", RuleParams(), w, x, labels, np.float64, smooth_forward=True)
    assert set(grads) == set(weight_shapes(net)) and {"c1.gain", "c2.gain", "f1.gain"} <= set(grads)

    def loss(p):
        return bptt_loss(net, p, x, labels, smooth_forward=True)

    for name in weight_shapes(net):
        fd = _fd(loss, w, name)
        assert np.max(np.abs(fd)) > 1e-8, f"{name}: gradient vanishes, the check is vacuous"
        assert _rel(grads[name], fd) < 1e-6, name


@pytest.mark.parametrize("rule", ["stllr", "tess", "readout"])
def test_local_rules_carry_their_signal_through_the_standardisation(rule):
    net, plain = _nets()
    w, x, labels = draw_safe(net, 5)
    params = RuleParams(lambda_pre=0.5, lambda_post=0.2, alpha_pre=1.0, alpha_post=0.7, lsg_pool=(1, 1, 1))
    eff, _ = effective_weights(net, w)
    eff_plain = {k: v for k, v in eff.items() if not k.endswith(".gain")}
    rec_ws, y_ws = forward(net, w, x, np.float64)
    rec_pl, y_pl = forward(plain, eff_plain, x, np.float64)
    np.testing.assert_array_equal(y_ws, y_pl)
    assert all(np.array_equal(a.o, b.o) for a, b in zip(rec_ws, rec_pl))
    assert sum(float(r.o.sum()) for r in rec_ws) > 0

    g_raw, _ = gradients(net, rule, params, w, x, labels, np.float64)
    g_eff, _ = gradients(plain, rule, params, eff_plain, x, labels, np.float64)
    for name in set(g_eff) - {b.name for b in net.blocks}:  # readout and biases: untouched
        np.testing.assert_array_equal(g_raw[name], g_eff[name])
    trained = [b.name for b in net.blocks if b.name in g_eff]
    assert trained == ([] if rule == "readout" else ["c1", "c2", "f1"])
    assert not any(k.endswith(".gain") for k in g_raw) if rule == "readout" else True
    for name in trained:
        G = g_eff[name]
        assert np.max(np.abs(G)) > 1e-8, f"{name}: no learning signal, the check is vacuous"

        def f(p, name=name, G=G):
            return float((G * standardise(p["w"], p["g"])[0]).sum())

        p = {"w": w[name].copy(), "g": w[name + ".gain"].copy()}
        assert _rel(g_raw[name], _fd(f, p, "w")) < 1e-7, name
        assert _rel(g_raw[name + ".gain"], _fd(f, p, "g")) < 1e-7, name
