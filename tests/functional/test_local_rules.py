"""S-TLLR / TESS gradients derived independently (brute-force loops, finite differences of the
local losses, closed-form traces) and the docs/math.md §6 checks."""

import math

import numpy as np
import pytest

from tess_sim.simulator.functional.golden import compute_gradients
from tess_sim.simulator.functional.lsg import lsg_matrix
from tess_sim.simulator.functional.network import init_weights
from tess_sim.simulator.functional.rules import RuleParams
from tests.functional import brute
from tests.functional.nets import conv, linear, net_of, pool, readout

N_CLS = 3


def small_net(pool_kind="avg"):
    net = net_of((2, 6, 6), [conv("c1", 3, k=3, s=1, p=1), pool(pool_kind, 2), conv("c2", 4, k=2, s=1, p=0),
                             linear("f1", 6), readout()],
                 classes=N_CLS, neuron={"beta": 0.6, "theta": 0.5, "v_reset": 1.0})
    assert [b.in_shape for b in net.layers] == [(2, 6, 6), (3, 3, 3), (16,), (6,)]
    return net


def lsg_B(n_cls, dim):
    """B_l from the formula, with math.sin in float64 (independent of lsg.py)."""
    out = np.zeros((n_cls, dim))
    for c in range(n_cls):
        f = 50.0 + (512.0 - 50.0) * c / (n_cls - 1)
        for d in range(dim):
            v = math.sin(f * d)
            out[c, d] = (v > 0) - (v < 0)
    return out / dim


def brute_forward(net, w, x):
    """Loop forward: per block (input, u, o, out) each [T, B, ...]."""
    res = []
    h = x
    for b in net.blocks:
        t_steps = h.shape[0]
        if b.kind == "conv":
            cur = np.stack([brute.conv2d(h[t], w[b.name], b.stride, b.padding)
                            for t in range(t_steps)])
        else:
            h = h.reshape(t_steps, h.shape[1], -1)
            cur = h @ w[b.name].T
        o, u = brute.lif(cur, b.neuron.beta, b.neuron.theta, b.neuron.v_reset, b.neuron.reset)
        z = o
        for p in b.pools:
            z = np.stack([brute.avgpool(z[t], p.size, p.size) for t in range(t_steps)])
        res.append((h, u, o, z))
        h = z
    return res


def local_loss(o_t, block, s, labels):
    """TESS local loss of one step as a function of the (continuous) pre-pool spikes."""
    z = o_t
    for p in block.pools:
        z = brute.avgpool(z, p.size, p.size)
    if s is not None:
        z = brute.avgpool(z, z.shape[2] // s, z.shape[3] // s)
    a = z.reshape(z.shape[0], -1)
    logits = a @ lsg_B(N_CLS, a.shape[1]).T
    lse = np.log(np.exp(logits).sum(1))
    return np.mean(lse - logits[np.arange(len(labels)), labels])


def fd_grad(f, x, h=1e-4):
    g = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        g[idx] = (f(xp) - f(xm)) / (2 * h)
    return g


def corr(block, x, e):
    if block.kind == "conv":
        return brute.conv2d_weight_grad(x, e, block.kernel, block.stride, block.padding)
    return e.T @ x


def psi_tri(u, p):
    return p.psi.gamma * np.maximum(0, 1 - np.abs(u - p.theta) / p.psi.width)


def setup(seed, batch=2, T=4, pool_kind="avg"):
    net = small_net(pool_kind)
    w = init_weights(net, seed, np.float64, negative_slope=0.0)  # He scale: every layer spikes
    rng = np.random.default_rng(seed + 7)
    x = (rng.random((T, batch, 2, 6, 6)) < 0.5).astype(float)
    labels = rng.integers(0, N_CLS, batch)
    return net, w, x, labels


@pytest.mark.parametrize("seed", [0, 1])
def test_tess_single_step_reduction(seed):
    """docs/math.md §6: lambda_pre = lambda_post = 0, window = 1, alpha_post = 0 -> corr(x[t], m ⊙ Psi)
    at the last step, with m = dL_l/do by finite differences of the local loss."""
    net, w, x, labels = setup(seed)
    sizes = (3, 2, 0)
    params = RuleParams(lambda_pre=0.0, lambda_post=0.0, alpha_post=0.0, window=1,
                        lsg_pool=sizes)
    got = compute_gradients(net, "tess", params, w, x, labels)
    fwd = brute_forward(net, w, x)
    t = x.shape[0] - 1
    for b, (h, u, o, z), s in zip(net.blocks, fwd, sizes):
        s = None if b.kind == "linear" else s
        m = fd_grad(lambda ot: local_loss(ot, b, s, labels), o[t])
        assert np.abs(m).max() > 1e-6
        expect = corr(b, h[t], m * psi_tri(u[t], b.neuron))
        assert np.abs(expect).max() > 1e-8, "vacuous: no neuron in the surrogate's support"
        np.testing.assert_allclose(got[b.name], expect, rtol=1e-6, atol=1e-7 * np.abs(expect).max())
    # readout: per-step CE(y[T-1]) gradient, by finite differences
    h_last = fwd[-1][3][t].reshape(x.shape[1], -1)

    def ce_last(wr):
        logits = h_last @ wr.T + w["out.bias"]
        lse = np.log(np.exp(logits).sum(1))
        return np.mean(lse - logits[np.arange(len(labels)), labels])

    np.testing.assert_allclose(got["out"], fd_grad(ce_last, w["out"]), rtol=1e-6, atol=1e-10)


def test_tess_full_formula_with_traces():
    """Nonzero lambdas, alpha_post, window = T-1: sum over the window of
    alpha_pre corr(tr_x[t], m Psi) + alpha_post corr(x[t], m tr_Psi[t-1]), all by loops."""
    net, w, x, labels = setup(3, T=5)
    sizes = (1, 2, 0)
    params = RuleParams(lambda_pre=0.5, lambda_post=0.2, alpha_pre=0.8, alpha_post=0.6,
                        window=4, lsg_pool=sizes)
    got = compute_gradients(net, "tess", params, w, x, labels, trace=True)
    fwd = brute_forward(net, w, x)
    T = x.shape[0]
    for b, (h, u, o, z), s in zip(net.blocks, fwd, sizes):
        s = None if b.kind == "linear" else s
        ps = psi_tri(u, b.neuron)
        expect = 0.0
        for t in range(T - 4, T):
            m = fd_grad(lambda ot: local_loss(ot, b, s, labels), o[t])
            tr_x = sum(0.5 ** (t - k) * h[k] for k in range(t + 1))
            tr_psi_prev = sum(0.2 ** (t - 1 - k) * ps[k] for k in range(t))
            expect = expect + 0.8 * corr(b, tr_x, m * ps[t]) + 0.6 * corr(b, h[t], m * tr_psi_prev)
            np.testing.assert_allclose(got[b.name + ".tr_x"][t], tr_x, rtol=1e-12)
            np.testing.assert_allclose(got[b.name + ".m"][t], m, rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(got[b.name], expect, rtol=1e-6, atol=1e-7 * np.abs(expect).max())
    assert np.all(got["c1.m"][0] == 0)  # outside the window


def test_stllr_equals_bptt_at_T1():
    """With one step there is no path through time: S-TLLR's per-step backprop is BPTT."""
    net, w, x, labels = setup(4, batch=3, T=1, pool_kind="max")
    g1 = compute_gradients(net, "bptt", RuleParams(), w, x, labels)
    g2 = compute_gradients(net, "stllr", RuleParams(lambda_pre=0.7, lambda_post=0.3), w, x, labels)
    for k in ("c1", "c2", "f1", "out", "out.bias"):
        assert np.abs(g1[k]).max() > 0
        np.testing.assert_allclose(g2[k], g1[k], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("rule", ["bptt", "stllr", "tess"])
def test_batch_B_equals_B_runs_of_batch_1(rule):
    """docs/math.md §6: identical spikes, traces and gradients (batch mean factor 1/B)."""
    net, w, x, labels = setup(5, batch=3, T=4, pool_kind="max")
    params = RuleParams(lsg_pool=(3, 2, 0))
    full = compute_gradients(net, rule, params, w, x, labels, trace=True)
    singles = [compute_gradients(net, rule, params, w, x[:, i:i + 1], labels[i:i + 1], trace=True)
               for i in range(3)]
    for k, v in full.items():
        if k == "spikes":
            np.testing.assert_array_equal(v, sum(s[k] for s in singles))
        elif k.endswith((".o", ".z")):  # spikes (and pooled spikes) bit-identical
            np.testing.assert_array_equal(v, np.concatenate([s[k] for s in singles], axis=1))
        elif k.endswith((".u", ".tr_x", ".tr_psi", ".psi")):  # GEMM blocking may differ by an ulp
            np.testing.assert_allclose(v, np.concatenate([s[k] for s in singles], axis=1),
                                       rtol=1e-12, atol=1e-14)
        elif "." not in k or k.endswith(".bias"):
            np.testing.assert_allclose(v, sum(s[k] for s in singles) / 3, rtol=1e-10,
                                       atol=1e-14)


def test_lsg_matrix_closed_form():
    for n_cls, dim in [(10, 1024), (11, 512), (3, 27)]:
        b = lsg_matrix(n_cls, dim)
        np.testing.assert_array_equal(b, lsg_B(n_cls, dim))
        assert np.all(b[:, 0] == 0)
        assert set(np.unique(np.abs(b[:, 1:]) * dim)) == {1.0}


def test_window_and_lsg_errors():
    from tess_sim.simulator.errors import UserError
    from tess_sim.simulator.rules.program import learning_mask
    net, w, x, labels = setup(0)
    with pytest.raises(UserError, match="window"):
        compute_gradients(net, "tess", RuleParams(window=0), w, x, labels)
    # a window longer than T is every step, as the counting side's learning_mask has it
    T = x.shape[0]
    assert learning_mask(T, T + 5).sum() == learning_mask(T, None).sum() == T
    long, every = (compute_gradients(net, "tess", RuleParams(window=win), w, x, labels) for win in (T + 5, None))
    assert all(np.array_equal(long[k], every[k]) for k in every)
    with pytest.raises(UserError, match="lsg_pool"):
        compute_gradients(net, "tess", RuleParams(lsg_pool=(2, 2, 0)), w, x, labels)


@pytest.mark.parametrize("rule", ["stllr", "tess", "bptt"])
def test_bias_equals_constant_one_input_synapse(rule):
    """A block bias is a synapse from an always-on input: augment the input with a constant-1
    feature carrying the bias as its weight column; gradients must agree."""
    n = {"beta": 0.6, "theta": 0.5}
    net_b = net_of((5,), [linear("f1", 6, bias=True), linear("f2", 4), readout()], classes=3, neuron=n)
    net_a = net_of((6,), [linear("f1", 6), linear("f2", 4), readout()], classes=3, neuron=n)
    wb = init_weights(net_b, 1, np.float64, negative_slope=0.0)
    wb["f1.bias"] = np.linspace(-0.3, 0.4, 6)
    wa = {k: v for k, v in wb.items() if k != "f1.bias"}
    wa["f1"] = np.concatenate([wb["f1"], wb["f1.bias"][:, None]], axis=1)
    rng = np.random.default_rng(0)
    x = (rng.random((5, 4, 5)) < 0.5).astype(float)
    xa = np.concatenate([x, np.ones((5, 4, 1))], axis=2)
    labels = np.array([0, 1, 2, 1])
    params = RuleParams(lambda_pre=0.5, lambda_post=0.3, alpha_post=0.7, window=3)
    gb = compute_gradients(net_b, rule, params, wb, x, labels)
    ga = compute_gradients(net_a, rule, params, wa, xa, labels)
    assert np.abs(gb["f1.bias"]).max() > 0
    np.testing.assert_allclose(gb["f1.bias"], ga["f1"][:, -1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gb["f1"], ga["f1"][:, :-1], rtol=1e-12, atol=1e-15)
