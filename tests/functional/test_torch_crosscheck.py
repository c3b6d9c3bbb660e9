"""Optional cross-check against torch autograd (skipped when torch is not installed)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tess_sim.simulator.functional.golden import compute_gradients  # noqa: E402
from tess_sim.simulator.functional.network import init_weights  # noqa: E402
from tess_sim.simulator.functional.rules import RuleParams  # noqa: E402
from tess_sim.simulator.workload import Neuron  # noqa: E402
from tests.functional.nets import conv, linear, net_of, pool, readout  # noqa: E402

NEURON = Neuron(beta=0.5, theta=0.6, v_reset=1.0)


class Spike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u):
        ctx.save_for_backward(u)
        return (u > NEURON.theta).to(u.dtype)

    @staticmethod
    def backward(ctx, g):
        (u,) = ctx.saved_tensors
        return g * NEURON.psi.gamma * torch.clamp(1 - torch.abs(u - NEURON.theta) / NEURON.psi.width, min=0)


def small_net(standardisation: str = "none"):
    net = net_of((2, 8, 8), [conv("c1", 4, k=3, s=1, p=1), pool("max", 2), conv("c2", 6, k=3, s=2, p=1),
                             pool("adaptive_avg", 1), linear("f1", 7), readout()],
                 classes=5, neuron=NEURON.model_dump(), standardisation=standardisation)
    assert [b.in_shape for b in net.layers] == [(2, 8, 8), (4, 4, 4), (6,), (7,)]
    return net


def torch_forward(net, tw, x, detach_state=False):
    """Returns per block list of (input, u, o, z) per step and the readout outputs.
    ``detach_state``: no gradient path through time (S-TLLR's per-step backprop)."""
    T = x.shape[0]
    state = [None] * len(net.blocks)
    rec = [[] for _ in net.blocks]
    ys = []
    for t in range(T):
        h = x[t]
        for i, b in enumerate(net.blocks):
            if b.kind == "conv":
                cur = torch.nn.functional.conv2d(h, tw[b.name], stride=b.stride, padding=b.padding)
            else:
                h = h.reshape(h.shape[0], -1)
                cur = h @ tw[b.name].T
            u = cur if state[i] is None else NEURON.beta * state[i] + cur
            o = Spike.apply(u)
            state[i] = u - NEURON.v_reset * o.detach()
            if detach_state:
                state[i] = state[i].detach()
            z = o
            for p in b.pools:
                z = (torch.nn.functional.max_pool2d(z, p.size) if p.kind == "max"
                     else torch.nn.functional.adaptive_avg_pool2d(z, p.size))
            rec[i].append((h, u, o, z))
            h = z
        ys.append(h.reshape(h.shape[0], -1) @ tw["out"].T + tw["out.bias"])
    return rec, ys


def torch_standardise(w, gain):
    """Scaled weight standardisation as the TESS reference writes it in torch (its --wn layers):
    per output channel over the fan-in, unbiased variance, eps 1e-4 inside the root."""
    flat = w.reshape(w.shape[0], -1)
    n = flat.shape[1]
    mean = flat.mean(dim=1, keepdim=True)
    var = flat.var(dim=1, unbiased=True, keepdim=True)
    return (gain[:, None] * (flat - mean) / torch.sqrt(var * n + 1e-4)).reshape(w.shape)


def effective(net, tw):
    """The torch weights the layers compute with: W_eff of standardised blocks (graph-connected
    to the raw W and gain), the others as they are."""
    out = dict(tw)
    for b in net.blocks:
        if b.standardised:
            out[b.name] = torch_standardise(tw[b.name], tw[b.name + ".gain"])
    return out


def data(seed, standardisation="none"):
    net = small_net(standardisation)
    w = init_weights(net, seed, np.float64, negative_slope=0.0)
    rng = np.random.default_rng(seed)
    if standardisation == "none":
        w["f1"] *= 3.0  # enough activity that every layer spikes
    else:
        for b in net.blocks:  # W_eff has unit norm per channel: gains set the activity
            w[b.name + ".gain"] = rng.uniform(1.5, 3.0, w[b.name + ".gain"].shape)
    x = (rng.random((5, 3, 2, 8, 8)) < 0.4).astype(float)
    return net, w, x, rng.integers(0, 5, 3)


@pytest.mark.parametrize("standardisation", ["none", "scaled"])
@pytest.mark.parametrize("seed", [0, 1])
def test_bptt_matches_torch_autograd(seed, standardisation):
    net, w, x, labels = data(seed, standardisation)
    tw = {k: torch.tensor(v, requires_grad=True) for k, v in w.items()}
    _, ys = torch_forward(net, effective(net, tw), torch.tensor(x))
    loss = torch.nn.functional.cross_entropy(sum(ys), torch.tensor(labels))
    loss.backward()
    got = compute_gradients(net, "bptt", RuleParams(), w, x, labels)
    for k in tw:
        assert tw[k].grad.abs().max() > 0
        np.testing.assert_allclose(got[k], tw[k].grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("standardisation", ["none", "scaled"])
@pytest.mark.parametrize("rule", ["tess", "stllr"])
def test_local_rules_match_torch_signals(rule, standardisation):
    """m by torch autograd (TESS: of the LSG loss, incl. torch's max-pool routing; S-TLLR: of
    CE(y[t]) with the membrane state detached), corr by torch.nn.grad, traces by explicit sums;
    through a standardisation, the gradient of W_eff carried to raw W and gain by autograd (as
    the reference's local loss reaches its --wn layers)."""
    net, w, x, labels = data(2, standardisation)
    sizes = (2, 1, 0)
    lp, lq, ap_, aq = 0.5, 0.2, 1.0, 1.0
    params = RuleParams(lambda_pre=lp, lambda_post=lq, alpha_pre=ap_, alpha_post=aq,
                        lsg_pool=sizes)
    got = compute_gradients(net, rule, params, w, x, labels)
    raw = {k: torch.tensor(v, requires_grad=True) for k, v in w.items()}
    tw = {k: v.detach() for k, v in effective(net, raw).items()}
    lab = torch.tensor(labels)
    T = x.shape[0]
    if rule == "stllr":
        twg = {k: v.clone().requires_grad_(True) for k, v in tw.items()}
        rec, ys = torch_forward(net, twg, torch.tensor(x), detach_state=True)
        step_m = [torch.autograd.grad(torch.nn.functional.cross_entropy(ys[t], lab),
                                      [rec[i][t][2] for i in range(len(net.blocks))])
                  for t in range(T)]
    else:
        rec, _ = torch_forward(net, tw, torch.tensor(x))
    for i, b in enumerate(net.blocks):
        expect = torch.zeros_like(tw[b.name])
        psis, hs = [], []
        for t in range(T):
            h, u, o, _ = rec[i][t]
            u = u.detach()
            o = o.detach().requires_grad_(True)
            z = o
            for p in b.pools:
                z = (torch.nn.functional.max_pool2d(z, p.size) if p.kind == "max"
                     else torch.nn.functional.adaptive_avg_pool2d(z, p.size))
            a = z if b.kind == "linear" else torch.nn.functional.adaptive_avg_pool2d(z, sizes[i])
            a = a.reshape(a.shape[0], -1)
            D = a.shape[1]
            f = torch.linspace(50, 512, 5, dtype=torch.float64)
            B = torch.sign(torch.sin(f[:, None] * torch.arange(D, dtype=torch.float64)[None])) / D
            L = torch.nn.functional.cross_entropy(a @ B.T, lab)
            (m,) = torch.autograd.grad(L, o)
            if rule == "stllr":
                m = step_m[t][i]
            ps = NEURON.psi.gamma * torch.clamp(1 - torch.abs(u - NEURON.theta), min=0)
            psis.append(ps)
            h = h.detach()
            hs.append(h)
            tr_x = sum(lp ** (t - k) * hs[k] for k in range(t + 1))
            tr_p = sum(lq ** (t - 1 - k) * psis[k] for k in range(t)) if t else torch.zeros_like(ps)
            for inp, e, c in ((tr_x, m * ps, ap_), (h.detach(), m * tr_p, aq)):
                if b.kind == "conv":
                    expect += c * torch.nn.grad.conv2d_weight(inp, tw[b.name].shape, e,
                                                              stride=b.stride, padding=b.padding)
                else:
                    expect += c * e.T @ inp
        assert expect.abs().max() > 0
        if b.standardised:
            leaves = [raw[b.name], raw[b.name + ".gain"]]
            expect, expect_gain = torch.autograd.grad(effective(net, raw)[b.name], leaves, grad_outputs=expect)
            np.testing.assert_allclose(got[b.name + ".gain"], expect_gain.numpy(), rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(got[b.name], expect.numpy(), rtol=1e-9, atol=1e-13)
