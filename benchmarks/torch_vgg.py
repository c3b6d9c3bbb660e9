"""Plain PyTorch versions of the functional engine's TESS and BPTT steps (forward + weight
gradients, with scaled weight standardisation), for ``bench_functional_vgg.py`` to time on the
same shapes.  Imported only when torch is installed.

Both run layer-major like the engine (each conv over all T steps at once, time folded into the
batch; the LIF recurrence a loop over T) with PyTorch's own conv kernels (``F.conv2d``,
``torch.nn.grad.conv2d_weight``) and autograd where a straightforward port would use it:
the standardisation backward (W_eff -> raw W and gain), TESS's learning signal through the
pools and the LSG, and the whole BPTT backward (a surrogate-gradient spike function; the reset
term detached, as docs/math.md §2).  TESS's two correlations are one, as in the engine: the
causal term is the correlation of x with the reverse-time trace of m·Psi.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from tess_sim.simulator.functional.lsg import lsg_matrix
from tess_sim.simulator.functional.neuron import reset_value
from tess_sim.simulator.functional.standardise import WS_EPS, gain_key
from tess_sim.simulator.network import Net


def _standardise(w: torch.Tensor, gain: torch.Tensor, gamma: float) -> torch.Tensor:
    flat = w.reshape(w.shape[0], -1)
    n = flat.shape[1]
    wc = flat - flat.mean(dim=1, keepdim=True)
    s = torch.sqrt((wc * wc).sum(dim=1, keepdim=True) / (n - 1) * n + WS_EPS)
    return (gamma * gain[:, None] * wc / s).reshape(w.shape)


def _psi(u: torch.Tensor, p) -> torch.Tensor:
    return p.psi.gamma * torch.clamp(1 - torch.abs(u - p.theta) / p.psi.width, min=0)


class _Spike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, p):
        ctx.save_for_backward(u)
        ctx.p = p
        return (u > p.theta).to(u.dtype)

    @staticmethod
    def backward(ctx, g):
        (u,) = ctx.saved_tensors
        return g * _psi(u, ctx.p), None


def _pools(z: torch.Tensor, pools) -> torch.Tensor:
    for pl in pools:
        z = F.max_pool2d(z, pl.size) if pl.kind == "max" else F.adaptive_avg_pool2d(z, pl.size)
    return z


class TorchSteps:
    """The network's parameters as torch leaves (raw W, gains) and the two steps, in ``dtype``
    (float32 for the benchmark; float64 to check that float32 differences are threshold flips)."""

    def __init__(self, net: Net, weights: dict, lsg_sizes: list, rule_params, dtype=torch.float32):
        self.net, self.sizes, self.rp, self.dtype = net, lsg_sizes, rule_params, dtype
        self.w = {k: torch.tensor(v, dtype=dtype, requires_grad=True)
                  for k, v in weights.items()}
        n_cls = net.readout.weight_shape[0]
        self.lsg = {}
        for b, s in zip(net.blocks, lsg_sizes):
            dim = b.pre_shape[0] * s * s if s is not None else b.pre_shape[0]
            self.lsg[b.name] = torch.tensor(lsg_matrix(n_cls, dim, np.float64)).to(dtype)

    def _effective(self) -> dict:
        return {b.name: (_standardise(self.w[b.name], self.w[gain_key(b.name)], b.ws_gamma)
                         if b.standardised else self.w[b.name]) for b in self.net.blocks}

    def _lif(self, cur: torch.Tensor, p, spike) -> tuple[torch.Tensor, torch.Tensor]:
        state, us, os_ = None, [], []
        for t in range(cur.shape[0]):
            u = cur[t] if state is None else p.beta * state + cur[t]
            o = spike(u)
            state = u - reset_value(p) * o.detach() if p.reset == "subtract" else u * (1 - o.detach())
            us.append(u)
            os_.append(o)
        return torch.stack(os_), torch.stack(us)

    def tess(self, x: np.ndarray, labels: np.ndarray) -> dict:
        """One TESS step: forward + the weight gradients of every layer (raw W, gain, readout)."""
        rp, T = self.rp, x.shape[0]
        for v in self.w.values():
            v.grad = None
        eff = self._effective()
        lab = torch.tensor(labels, dtype=torch.long)
        h = torch.tensor(x, dtype=self.dtype)
        d_eff = {}
        for b in self.net.blocks:
            B = h.shape[1]
            we = eff[b.name].detach()
            hf = h.reshape((T * B,) + h.shape[2:])
            with torch.no_grad():
                cur = F.conv2d(hf, we, stride=b.stride, padding=b.padding)
                cur = cur.reshape((T, B) + cur.shape[1:])
                o, u = self._lif(cur, b.neuron, lambda v: (v > b.neuron.theta).to(v.dtype))
                ps = _psi(u, b.neuron)
            o = o.reshape((T * B,) + o.shape[2:]).requires_grad_()
            z = _pools(o, b.pools)
            a = F.adaptive_avg_pool2d(z, self.sizes[b.index]).flatten(1)
            p = a @ self.lsg[b.name].T
            loss = F.cross_entropy(p, lab.repeat(T), reduction="sum") / B
            (m,) = torch.autograd.grad(loss, o)
            with torch.no_grad():
                m = m.reshape(ps.shape)
                e = rp.alpha_pre * m * ps
                for t in range(T - 2, -1, -1):
                    e[t] += rp.lambda_pre * e[t + 1]
                tr = torch.zeros_like(ps[0])
                for t in range(1, T):
                    tr = rp.lambda_post * tr + ps[t - 1]
                    e[t] += rp.alpha_post * m[t] * tr
                d_eff[b.name] = torch.nn.grad.conv2d_weight(
                    hf, we.shape, e.reshape((T * B,) + e.shape[2:]), stride=b.stride,
                    padding=b.padding)
            h = z.detach().reshape((T, B) + z.shape[1:])
        r = self.net.readout
        with torch.no_grad():
            hf = h.reshape(T, h.shape[1], -1)
            y = hf @ self.w[r.name].T
            g = (torch.softmax(y, dim=-1) - F.one_hot(lab, y.shape[-1]).to(y.dtype)) / h.shape[1]
            grads = {r.name: g.reshape(-1, g.shape[-1]).T @ hf.reshape(-1, hf.shape[-1])}
        names = [b.name for b in self.net.blocks]
        torch.autograd.backward([eff[n] for n in names], [d_eff[n] for n in names])
        for k, v in self.w.items():
            if v.grad is not None:
                grads[k] = v.grad
        return grads

    def bptt(self, x: np.ndarray, labels: np.ndarray) -> dict:
        """One BPTT step: forward + autograd backward of CE(softmax(Σ_t y[t]))."""
        T = x.shape[0]
        for v in self.w.values():
            v.grad = None
        eff = self._effective()
        h = torch.tensor(x, dtype=self.dtype)
        for b in self.net.blocks:
            B = h.shape[1]
            cur = F.conv2d(h.reshape((T * B,) + h.shape[2:]), eff[b.name], stride=b.stride,
                           padding=b.padding)
            o, _ = self._lif(cur.reshape((T, B) + cur.shape[1:]), b.neuron,
                             lambda v: _Spike.apply(v, b.neuron))
            z = _pools(o.reshape((T * B,) + o.shape[2:]), b.pools)
            h = z.reshape((T, B) + z.shape[1:])
        r = self.net.readout
        y = h.reshape(T, h.shape[1], -1) @ self.w[r.name].T
        F.cross_entropy(y.sum(dim=0), torch.tensor(labels, dtype=torch.long)).backward()
        return {k: v.grad for k, v in self.w.items() if v.grad is not None}
