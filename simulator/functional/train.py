"""Training loop for the functional engine (BPTT, S-TLLR, TESS, readout-only control)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from tess_sim.simulator.functional.memory import keep_freed_memory
from tess_sim.simulator.functional.network import forward, init_weights, samples_per_chunk, weight_shapes
from tess_sim.simulator.functional.optim import make_optimizer
from tess_sim.simulator.functional.rules import ALIASES, RuleParams, cross_entropy, gradients
from tess_sim.simulator.functional.standardise import engine_layout
from tess_sim.simulator.network import Net


@dataclass
class History:
    """Per-epoch records.  ``train_acc``: accuracy on the training mini-batches as seen during
    the epoch (prediction argmax_c sum_t y[t] before each update); ``test_acc`` after the epoch;
    ``loss``: the mean over the epoch's samples of CE(softmax(Σ_t y[t])) (BPTT's objective, the
    same measure for every rule); ``rates``: per epoch, the training samples' spikes per neuron per
    step of every block (pre-pool); ``epoch_seconds``: wall time of each epoch."""

    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    rates: list = field(default_factory=list)
    epoch_seconds: list = field(default_factory=list)
    weights: dict = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Checkpoint:
    """A training at an epoch boundary, all it needs to go on exactly as if never stopped: the
    epochs done, the weights, every optimiser's state (:meth:`SGD.state` / :meth:`Adam.state`),
    the generator's state (the shuffles and encodings still to draw) and the history so far."""

    epoch: int
    weights: dict
    optimizers: list
    rng: dict
    history: History


def predict(net: Net, weights: dict, x: np.ndarray, batch: int = 512,
            dtype=np.float32) -> np.ndarray:
    """Class = argmax of the summed readout; ``x [T, N, *shape]`` -> ``[N]`` (at most ``batch``
    samples a forward pass, fewer where their records would not fit :data:`CHUNK_BYTES`)."""
    out = []
    batch = min(batch, samples_per_chunk(net, x.shape[0]))
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
          weights: dict | None = None, blas_threads: int | None = 1, on_epoch=None,
          resume: Checkpoint | None = None, on_checkpoint=None, on_batch=None) -> History:
    """Train from Kaiming-normal init (``init_weights(net, seed)``, or ``weights``) with
    mini-batches of ``batch`` (shuffled by ``default_rng(seed + 1)``, which also draws the input
    spikes of a rate-coded data set) for ``epochs`` epochs in all.  ``data`` is a
    :class:`~simulator.functional.data.RateDataset` or
    :class:`~simulator.functional.data.FrameDataset`.  Returns a :class:`History` with the final
    weights.

    ``resume``: a :class:`Checkpoint` to go on from (its weights, optimisers, generator and
    history; the result equals an uninterrupted run bit for bit); ``on_checkpoint(checkpoint)``
    is called after every epoch with the state to save; ``on_batch(samples)`` after every
    mini-batch (progress); ``on_epoch(epoch, train_acc, test_acc)`` after every epoch.

    ``blas_threads``: BLAS threads during training (default 1: the digits-size GEMMs are tiny
    and OpenBLAS worker threads spin-wait, which on a shared 2-core machine made a run up to 60x
    slower); None leaves the BLAS setting alone (use it for conv nets)."""
    if blas_threads is not None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
            pass
        else:
            with threadpool_limits(limits=blas_threads, user_api="blas"):
                return train(net, rule, params, data, epochs, batch, lr, optimizer, seed, dtype,
                             weights, None, on_epoch, resume, on_checkpoint, on_batch)
    rule = ALIASES.get(rule, rule)
    keep_freed_memory()  # every step makes the same large arrays: reuse their pages
    t0 = time.perf_counter()
    opts = [make_optimizer(optimizer, g, lr) for g in _groups(net, rule)]
    rng = np.random.default_rng(seed + 1)
    if resume is None:
        w = init_weights(net, seed, dtype) if weights is None else {k: v.astype(dtype).copy()
                                                                    for k, v in weights.items()}
        hist = History()
    else:
        w = {k: np.array(v, dtype=dtype) for k, v in resume.weights.items()}
        for opt, state in zip(opts, resume.optimizers):
            opt.load_state(state)
        rng.bit_generator.state = resume.rng
        hist = resume.history
        t0 -= sum(hist.epoch_seconds)
    w = engine_layout(w)  # conv kernels HWIO, the GEMMs' layout; the optimisers keep it
    x_test = data.test_spikes(dtype)
    n = len(data.y_train)
    neurons = np.array([b.N_pre for b in net.blocks], dtype=float)
    for _ in range(len(hist.test_acc), epochs):
        te = time.perf_counter()
        perm = rng.permutation(n)
        correct, loss, spikes = 0, 0.0, np.zeros(len(net.blocks))
        for i in range(0, n, batch):
            idx = perm[i: i + batch]
            xb = data.encode(data.x_train[idx], rng, dtype)
            yb = data.y_train[idx]
            grads, info = gradients(net, rule, params, w, xb, yb, dtype)
            logits = info["y"].sum(axis=0)
            correct += int((logits.argmax(axis=1) == yb).sum())
            loss += cross_entropy(logits.astype(np.float64), yb) * len(idx)
            spikes += info["spikes"].sum(axis=1)
            for opt in opts:
                opt.step(w, grads)
            if on_batch is not None:
                on_batch(len(idx))
        hist.train_acc.append(correct / n)
        hist.test_acc.append(float((predict(net, w, x_test, dtype=dtype) == data.y_test).mean()))
        hist.loss.append(loss / n)
        hist.rates.append((spikes / (neurons * n * xb.shape[0])).tolist())
        hist.epoch_seconds.append(time.perf_counter() - te)
        if on_checkpoint is not None:
            on_checkpoint(Checkpoint(len(hist.test_acc), w, [opt.state() for opt in opts],
                                     rng.bit_generator.state, hist))
        if on_epoch is not None:
            on_epoch(len(hist.test_acc), hist.train_acc[-1], hist.test_acc[-1])
    hist.weights = w
    hist.seconds = time.perf_counter() - t0
    return hist
