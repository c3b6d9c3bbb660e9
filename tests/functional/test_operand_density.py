"""Measured learning operands (simulator/functional/operands.py) against brute force: every
density and op count recounted with explicit Python loops over every step, sample, weight and
position of a tiny network (tests/functional/operand_net.py), from the engine's own forward
records and learning signals (``gradients(..., trace=True)``; the signals themselves are checked
by the gradient tests); the traces are recomputed by their recursion."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tess_sim.simulator.functional import operands as O
from tess_sim.simulator.functional.network import forward
from tess_sim.simulator.functional.rules import gradients
from tess_sim.simulator.measured.bridge import rule_params

from .operand_net import tiny


def _count(a) -> np.ndarray:
    """[T] non-zeros per sample, element by element."""
    T, B = a.shape[:2]
    out = np.zeros(T)
    for t in range(T):
        for idx in np.ndindex(a.shape[1:]):
            out[t] += a[(t,) + idx] != 0
    return out / B


def _taps(b):
    """Every (output position, input position) of the block's synapses inside the input map, per
    weight: yields (k, c, oy, ox, iy, ix) (linear: (k, c, 0, 0, 0, 0) with c the input index)."""
    if b.kind != "conv":
        for k, c in itertools.product(range(b.N_pre), range(b.N_in)):
            yield k, c, 0, 0, 0, 0
        return
    K, OY, OX = b.pre_shape
    C, H, W = b.in_shape
    for k, c, oy, ox, fy, fx in itertools.product(range(K), range(C), range(OY), range(OX),
                                                  range(b.kernel), range(b.kernel)):
        iy, ix = oy * b.stride + fy - b.padding, ox * b.stride + fx - b.padding
        if 0 <= iy < H and 0 <= ix < W:
            yield k, c, oy, ox, iy, ix


def _at(b, a, t, n, c, iy, ix):
    return a[t, n, c, iy, ix] if b.kind == "conv" else a[t, n].reshape(-1)[c]


def _out(b, e, t, n, k, oy, ox):
    return e[t, n, k, oy, ox] if b.kind == "conv" else e[t, n].reshape(-1)[k]


def brute_pairs(b, a, e) -> np.ndarray:
    """[T] per sample: synapses of corr(a, e) with a ≠ 0 and e ≠ 0."""
    T, B = e.shape[:2]
    taps = list(_taps(b))
    out = np.zeros(T)
    for t, n in itertools.product(range(T), range(B)):
        for k, c, oy, ox, iy, ix in taps:
            out[t] += _at(b, a, t, n, c, iy, ix) != 0 and _out(b, e, t, n, k, oy, ox) != 0
    return out / B


def brute_fanin(b, e) -> np.ndarray:
    """[T] per sample: synapses of Wᵀ·e with e ≠ 0 (inputs inside the map)."""
    T, B = e.shape[:2]
    taps = list(_taps(b))
    out = np.zeros(T)
    for t, n in itertools.product(range(T), range(B)):
        for k, c, oy, ox, iy, ix in taps:
            out[t] += _out(b, e, t, n, k, oy, ox) != 0
    return out / B


def brute_trace(x, lam):
    tr = np.zeros_like(x, dtype=np.float64)
    for t in range(x.shape[0]):
        tr[t] = (lam * tr[t - 1] if t else 0.0) + x[t]
    return tr


@pytest.fixture(scope="module", params=[False, True], ids=["active", "silent c2"])
def measured(request):
    wl, net, w, x, labels = tiny(request.param)
    params = {r: rule_params(wl, r) for r in ("bptt", "stllr", "tess")}
    got = O.measure_operands(net, w, x, labels, params)
    return wl, net, w, x, labels, params, got, request.param


def test_psi_and_bptt_operands_by_brute_force(measured):
    wl, net, w, x, labels, params, got, silent = measured
    records, _ = forward(net, w, x)
    _, info = gradients(net, "bptt", params["bptt"], w, x, labels, trace=True)
    for b, rec in zip(net.blocks, records):
        g = got[b.name]
        delta, do = info[b.name + ".delta"], info[b.name + ".m"]
        np.testing.assert_array_equal(g["psi_nonzero"], _count(rec.psi))
        np.testing.assert_array_equal(g["bptt_signal_nonzero"], _count(delta))
        np.testing.assert_array_equal(g["bptt_surrogate_ops"], _count((do != 0) & (rec.psi != 0)))
        np.testing.assert_array_equal(g["bptt_wgrad_ops"], brute_pairs(b, rec.x, delta))
        if b.index > 0:
            np.testing.assert_array_equal(g["bptt_prop_ops"], brute_fanin(b, delta))
        else:
            assert "bptt_prop_ops" not in g  # the first block propagates nothing
        # the counts can fail: every one within its dense bound, and some below it
        assert (g["bptt_wgrad_ops"] <= b.F).all() and (g["psi_nonzero"] <= b.N_pre).all()
    assert got["c1"]["bptt_wgrad_ops"][1] == 0  # the step without input: no pair
    if silent:  # c2 never near threshold: no Psi, no δu at it, none below it
        assert not got["c2"]["psi_nonzero"].any()
        assert not got["c2"]["bptt_signal_nonzero"].any() and not got["c1"]["bptt_signal_nonzero"].any()
        assert not got["c2"]["bptt_prop_ops"].any()
    else:
        assert got["c2"]["bptt_prop_ops"].any() and got["c1"]["bptt_wgrad_ops"].any()


@pytest.mark.parametrize("rule", ["stllr", "tess"])
def test_local_rule_operands_by_brute_force(measured, rule):
    wl, net, w, x, labels, params, got, silent = measured
    p = params[rule]
    records, _ = forward(net, w, x)
    _, info = gradients(net, rule, p, w, x, labels, trace=True)
    for b, rec in zip(net.blocks, records):
        g = got[b.name]
        m = info[b.name + ".m"]
        tr_x = brute_trace(rec.x, p.lambda_pre)
        tr_psi = brute_trace(rec.psi, p.lambda_post)
        signal = (m != 0) & (rec.psi != 0)
        prev = np.concatenate([np.zeros_like(tr_psi[:1]), tr_psi[:-1]])
        post = (m != 0) & (prev != 0)
        np.testing.assert_array_equal(g[f"{rule}_trace_nonzero"], _count(tr_x))
        np.testing.assert_array_equal(g[f"{rule}_trace_psi_nonzero"], _count(tr_psi))
        np.testing.assert_array_equal(g[f"{rule}_signal_nonzero"], _count(signal))
        np.testing.assert_array_equal(g[f"{rule}_post_nonzero"], _count(post))
        np.testing.assert_array_equal(g[f"{rule}_causal_ops"], brute_pairs(b, tr_x, signal))
        np.testing.assert_array_equal(g[f"{rule}_noncausal_ops"], brute_pairs(b, rec.x, post))
        if rule == "stllr" and b.index > 0:
            np.testing.assert_array_equal(g["stllr_prop_ops"], brute_fanin(b, signal))
        if rule == "stllr":  # window 3 of T = 4: no learning signal at step 0
            assert g["stllr_signal_nonzero"][0] == 0 and g["stllr_causal_ops"][0] == 0
    # the input trace outlives the step without input; the non-causal term (on x) does not
    assert got["c1"][f"{rule}_trace_nonzero"][1] > 0 and got["c1"][f"{rule}_noncausal_ops"][1] == 0
    if silent:
        assert not got["c2"][f"{rule}_signal_nonzero"].any() and not got["c2"][f"{rule}_causal_ops"].any()


def test_chunks_combine_to_the_whole(measured, monkeypatch):
    wl, net, w, x, labels, params, got, silent = measured
    monkeypatch.setattr(O, "samples_per_chunk", lambda *a, **k: 2)  # one sample a chunk
    chunked = O.measure_operands(net, w, x, labels, params)
    for name in got:
        assert chunked[name].keys() == got[name].keys()
        for k in got[name]:
            np.testing.assert_allclose(chunked[name][k], got[name][k], rtol=1e-12, atol=0)


def test_forward_counts_equal_measure_activity(measured):
    """The forward counts measure_operands returns (from its own forward pass) are
    measure_activity's, for every layer and key, the readout included."""
    from tess_sim.simulator.functional.activity import measure_activity

    wl, net, w, x, labels, params, got, silent = measured
    fwd = measure_activity(net, w, x)
    assert set(fwd) == set(got)
    for name, counts in fwd.items():
        for k, v in counts.items():
            np.testing.assert_array_equal(got[name][k], v)


def test_membrane_updates_by_an_explicit_lif_loop(measured):
    """NeuroBench's MembraneUpdates: every neuron at t = 0, then the neurons whose post-reset
    membrane changed; recomputed from the block currents (brute conv) with an explicit LIF loop."""
    from .brute import conv2d

    wl, net, w, x, labels, params, got, silent = measured
    records, _ = forward(net, w, x)
    for b, rec in zip(net.blocks, records):
        xin = rec.x.astype(np.float64)
        T, B = xin.shape[:2]
        if b.kind == "conv":
            cur = np.stack([conv2d(xin[t], w[b.name].astype(np.float64), b.stride, b.padding) for t in range(T)])
        else:
            cur = xin.reshape(T, B, -1) @ w[b.name].astype(np.float64).T
        if b.bias:
            cur = cur + w[b.name + ".bias"].astype(np.float64).reshape((1, 1, -1) + (1,) * (cur.ndim - 3))
        p = b.neuron
        prev = np.zeros(cur.shape[1:])
        want = np.zeros(T)
        for t in range(T):
            u = p.beta * prev + cur[t]
            o = u > p.theta
            new = np.where(o, u - p.theta if p.reset == "subtract" and p.v_reset is None else
                           (u - p.v_reset if p.reset == "subtract" else 0.0), u)
            want[t] = new.size / B if t == 0 else np.count_nonzero(np.abs(new - prev) > 1e-9) / B
            prev = new
        np.testing.assert_array_equal(got[b.name]["membrane_updates"], want, err_msg=b.name)
