"""Optimisers over a dict of named arrays, updated in place.  Both are elementwise, so "one
optimiser per block" (local rules) and one for the whole net give the same arithmetic; the
training loop still keeps one instance per block for local rules (one step per mini-batch)."""

from __future__ import annotations

import numpy as np


class SGD:
    """w -= lr * g (optional momentum mu: v = mu*v + g; w -= lr*v)."""

    def __init__(self, names, lr: float, momentum: float = 0.0):
        self.names, self.lr, self.mu = list(names), lr, momentum
        self.v: dict[str, np.ndarray] = {}

    def step(self, weights: dict, grads: dict) -> None:
        for n in self.names:
            g = grads[n]
            if self.mu:
                v = self.v.get(n)
                v = g.copy() if v is None else self.mu * v + g
                self.v[n] = v
                g = v
            weights[n] -= (self.lr * g).astype(weights[n].dtype, copy=False)

    def state(self) -> dict:
        """What a checkpoint keeps: ``{"v": {name: array}}`` (momentum buffers)."""
        return {"v": dict(self.v)}

    def load_state(self, state: dict) -> None:
        self.v = dict(state.get("v", {}))


class Adam:
    """Adam (Kingma & Ba) with bias correction: betas (0.9, 0.999), eps 1e-8."""

    def __init__(self, names, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.names, self.lr, self.b1, self.b2, self.eps = list(names), lr, betas[0], betas[1], eps
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t = 0

    def step(self, weights: dict, grads: dict) -> None:
        self.t += 1
        c1 = 1 - self.b1 ** self.t
        c2 = 1 - self.b2 ** self.t
        for n in self.names:
            g = grads[n]
            m = self.m.get(n, 0.0) * self.b1 + (1 - self.b1) * g
            v = self.v.get(n, 0.0) * self.b2 + (1 - self.b2) * g * g
            self.m[n], self.v[n] = m, v
            upd = self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
            weights[n] -= upd.astype(weights[n].dtype, copy=False)

    def state(self) -> dict:
        """What a checkpoint keeps: the moments ``m``, ``v`` ({name: array}) and the step count."""
        return {"m": dict(self.m), "v": dict(self.v), "t": self.t}

    def load_state(self, state: dict) -> None:
        self.m, self.v, self.t = dict(state.get("m", {})), dict(state.get("v", {})), int(state.get("t", 0))


def make_optimizer(kind: str, names, lr: float):
    if kind == "sgd":
        return SGD(names, lr)
    if kind == "adam":
        return Adam(names, lr)
    raise ValueError(f"unknown optimizer {kind!r} (sgd | adam)")
