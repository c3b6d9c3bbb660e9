"""Training loop for the functional engine (BPTT, S-TLLR, TESS, readout-only control)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from tess_sim.simulator.functional.network import forward, init_weights, weight_shapes
from tess_sim.simulator.functional.optim import make_optimizer
from tess_sim.simulator.functional.rules import ALIASES, RuleParams, gradients
from tess_sim.simulator.network import Net


@dataclass
class History:
    """Per-epoch accuracies.  ``train_acc``: accuracy on the training mini-batches as seen during
    the epoch (prediction argmax_c sum_t y[t] before each update); ``test_acc`` after the epoch."""

    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    weights: dict = field(default_factory=dict)
    seconds: float = 0.0


def predict(net: Net, weights: dict, x: np.ndarray, batch: int = 512,
            dtype=np.float32) -> np.ndarray:
    """Class = argmax of the summed readout; ``x [T, N, *shape]`` -> ``[N]``."""
    out = []
    for i in range(0, x.shape[1], batch):
        _, y = forward(net, weights, x[:, i: i + batch], dtype)
        out.append(y.sum(axis=0).argmax(axis=1))
    return np.concatenate(out)


def _groups(net: Net, rule: str) -> list[list[str]]:
    """Parameter groups, one optimiser each: BPTT one for all; local rules one per block (its
    weights, bias and standardisation gain) and one for the readout; the readout-only control
    only the readout."""
    names = list(weight_shapes(net))
    if rule == "bptt":
        return [names]
    per = []
    layers = [b.name for b in net.layers]
    if rule == "readout":
        layers = [net.readout.name]
    for layer in layers:
        per.append([n for n in names if n in (layer, layer + ".bias", layer + ".gain")])
    return per


def train(net: Net, rule: str, params: RuleParams, data, epochs: int, batch: int,
          lr: float, optimizer: str = "adam", seed: int = 0, dtype=np.float32,
          weights: dict | None = None, blas_threads: int | None = 1, on_epoch=None) -> History:
    """Train from Kaiming-normal init (``init_weights(net, seed)``) with mini-batches of
    ``batch`` (shuffled by ``default_rng(seed + 1)``, which also draws the input spikes).
    ``data`` is a :class:`~simulator.functional.data.RateDataset`.  Returns a :class:`History`
    with the final weights.

    ``blas_threads``: BLAS threads during training (default 1: the digits-size GEMMs are tiny
    and OpenBLAS worker threads spin-wait, which on a shared 2-core machine made a run up to 60x
    slower); None leaves the BLAS setting alone (use it for conv nets). ``on_epoch(epoch,
    train_acc, test_acc)`` is called after every epoch (progress display)."""
    if blas_threads is not None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
            pass
        else:
            with threadpool_limits(limits=blas_threads, user_api="blas"):
                return train(net, rule, params, data, epochs, batch, lr, optimizer, seed, dtype,
                             weights, None, on_epoch)
    rule = ALIASES.get(rule, rule)
    t0 = time.perf_counter()
    w = init_weights(net, seed, dtype) if weights is None else {k: v.astype(dtype).copy()
                                                                for k, v in weights.items()}
    opts = [make_optimizer(optimizer, g, lr) for g in _groups(net, rule)]
    rng = np.random.default_rng(seed + 1)
    x_test = data.test_spikes(dtype)
    hist = History()
    n = len(data.y_train)
    for _ in range(epochs):
        perm = rng.permutation(n)
        correct = 0
        for i in range(0, n, batch):
            idx = perm[i: i + batch]
            xb = data.encode(data.x_train[idx], rng, dtype)
            yb = data.y_train[idx]
            grads, info = gradients(net, rule, params, w, xb, yb, dtype)
            correct += int((info["y"].sum(axis=0).argmax(axis=1) == yb).sum())
            for opt in opts:
                opt.step(w, grads)
        hist.train_acc.append(correct / n)
        hist.test_acc.append(float((predict(net, w, x_test, dtype=dtype) == data.y_test).mean()))
        if on_epoch is not None:
            on_epoch(len(hist.test_acc), hist.train_acc[-1], hist.test_acc[-1])
    hist.weights = w
    hist.seconds = time.perf_counter() - t0
    return hist

