"""BPTT gradients vs central finite differences (float64).

The spike H is not differentiable, so (docs/math.md §6) the network runs a *smooth surrogate forward*:
the emitted spike is S(u) with S' = Psi exactly (``smooth_forward=True``), while the reset
keeps the Heaviside spike (so "reset term constant" is the true derivative as long as no membrane
sits near theta).  The test checks that condition (and distance from the kinks of Psi and from
max-pool near-ties) and only uses draws that satisfy it.
"""


import numpy as np
import pytest

from tess_sim.simulator.functional.network import forward, init_weights, weight_shapes
from tess_sim.simulator.functional.rules import bptt_gradients, bptt_loss
from tests.functional.nets import conv, linear, net_of, pool, readout

MARGIN = 1e-4  # >> 1e-6 and >> the perturbation's effect on u


def tiny_net(neuron: dict, pool_kind: str):
    net = net_of((2, 6, 6), [conv("c1", 3, k=3, s=1, p=1, bias=True), pool(pool_kind, 2),
                             conv("c2", 2, k=2, s=2, p=1), linear("f1", 5, bias=True), readout()],
                 classes=3, neuron=neuron)
    assert [b.in_shape for b in net.layers] == [(2, 6, 6), (3, 3, 3), (8,), (5,)]
    return net


def _safe(net, weights, x) -> bool:
    records, _ = forward(net, weights, x, np.float64, smooth_forward=True)
    for b, rec in zip(net.blocks, records):
        p = b.neuron
        kinks = [p.theta] + ([p.theta - p.psi.width, p.theta + p.psi.width] if p.psi.shape == "triangle" else [])
        for k in kinks:
            if np.min(np.abs(rec.u - k)) < MARGIN:
                return False
        for pool in b.pools:  # max-pool: top two of each window must be apart
            if pool.kind == "max":
                s = rec.s.reshape((-1,) + rec.s.shape[2:])
                n, c, h, w = s.shape
                v = s[:, :, : h // 2 * 2, : w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)
                v = np.sort(v.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4), -1)
                gap = v[..., -1] - v[..., -2]
                # exact ties of saturated values (S = 0 or S = gamma*width, where Psi = 0) are
                # stable under perturbation; any other gap must exceed the margin
                flat = (v[..., -1] == 0) | (v[..., -1] == v.max())
                if np.any((gap < MARGIN) & ~((gap == 0) & flat)):
                    return False
    return True


def draw_safe(net, seed):
    """Weights (random biases and standardisation gains), analog input (T = 4, batch 2) and
    labels with every membrane and max-pool gap clear of the kinks (:func:`_safe`)."""
    rng = np.random.default_rng(seed)
    for attempt in range(50):
        w = init_weights(net, seed * 100 + attempt, np.float64)
        for k in w:
            if k.endswith(".bias"):
                w[k] = rng.standard_normal(w[k].shape) * 0.1
            elif k.endswith(".gain"):
                w[k] = rng.uniform(0.6, 1.4, w[k].shape)
        x = rng.random((4, 2) + net.input_shape) * 1.5
        labels = rng.integers(0, 3, 2)
        if _safe(net, w, x):
            return w, x, labels
    pytest.fail("no draw in 50 keeps every membrane and pool gap clear of the kinks")


def _fd_check(net, seed):
    w, x, labels = draw_safe(net, seed)
    grads, _ = bptt_gradients(net, w, x, labels, np.float64, smooth_forward=True)
    h = 1e-6
    worst = 0.0
    for name, shape in weight_shapes(net).items():
        fd = np.zeros(shape)
        for idx in np.ndindex(*shape):
            wp = {k: v.copy() for k, v in w.items()}
            wm = {k: v.copy() for k, v in w.items()}
            wp[name][idx] += h
            wm[name][idx] -= h
            fd[idx] = (bptt_loss(net, wp, x, labels, smooth_forward=True)
                       - bptt_loss(net, wm, x, labels, smooth_forward=True)) / (2 * h)
        scale = max(np.max(np.abs(fd)), 1e-12)
        rel = np.max(np.abs(grads[name] - fd)) / scale
        worst = max(worst, rel)
        assert np.max(np.abs(fd)) > 1e-8, f"{name}: gradient vanishes, test is vacuous"
        assert rel < 1e-6, f"{name}: relative error {rel:.2e}"
    return worst


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("reset,psi,pool", [("subtract", "triangle", "max"),
                                            ("zero", "triangle", "avg"),
                                            ("subtract", "fast_sigmoid", "max")])
def test_bptt_matches_finite_differences(seed, reset, psi, pool):
    neuron = {"beta": 0.7, "theta": 0.6, "v_reset": 1.0, "reset": reset, "psi": {"shape": psi, "slope": 5.0}}
    _fd_check(tiny_net(neuron, pool), seed)


def test_smooth_forward_only_changes_emitted_spikes():
    """With smooth_forward off the same backward code runs on Heaviside spikes: spikes must be
    binary and the gradients finite."""
    net = tiny_net({}, "max")
    w = init_weights(net, 0, np.float64)
    x = (np.random.default_rng(0).random((3, 2, 2, 6, 6)) < 0.5).astype(float)
    records, _ = forward(net, w, x, np.float64)
    for r in records:
        assert set(np.unique(r.o)) <= {0.0, 1.0}
        np.testing.assert_array_equal(r.s, r.o)
    g, _ = bptt_gradients(net, w, x, np.array([0, 2]))
    assert all(np.all(np.isfinite(v)) for v in g.values())
