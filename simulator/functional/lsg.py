"""TESS local learning-signal generator (LSG, docs/math.md §4).

Each block projects its (adaptive-avg-pooled) output through a fixed binary matrix
``B_l[c, d] = sign(sin(f_c * d)) / D_l`` with ``f = linspace(50, 512, C)``, ``d = 0..D_l-1``
(computed in float64), to C local logits, and takes the CE with the label.  The learning signal
is that loss's gradient w.r.t. the block's (pre-pool) spikes.  A linear block's latent is its
output itself (D_l = out features).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from tess_sim.simulator.functional.pool import pool_backward, pool_forward, pools_backward


@lru_cache(maxsize=64)
def _lsg_matrix64(n_classes: int, dim: int) -> np.ndarray:
    f = np.linspace(50.0, 512.0, n_classes, dtype=np.float64)
    d = np.arange(dim, dtype=np.float64)
    m = np.sign(np.sin(f[:, None] * d[None, :])) / dim
    m.setflags(write=False)
    return m


def lsg_matrix(n_classes: int, dim: int, dtype=np.float64) -> np.ndarray:
    """``B_l [n_classes, D_l]`` (computed in float64, then cast)."""
    return _lsg_matrix64(int(n_classes), int(dim)).astype(dtype)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def onehot(labels: np.ndarray, n_classes: int, dtype) -> np.ndarray:
    out = np.zeros((len(labels), n_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def lsg_signal(z: np.ndarray, labels: np.ndarray, n_classes: int, s: int | None,
               pool_caches: list) -> tuple[np.ndarray, np.ndarray]:
    """Learning signal of one block over steps.

    Args: ``z [W, B, *out_shape]`` block outputs (after its pools) at the W learning steps,
    ``labels [B]``, ``s`` the LSG pool size (None: linear block), ``pool_caches`` the block's
    pool caches for exactly those W steps (folded ``W*B``).
    Returns ``(m [W, B, *neuron_shape], p [W, B, n_classes])``: m = dL_l[t]/d o[t] with L_l the
    batch-mean CE of softmax(p[t]), and the local logits p.
    """
    w_steps, batch = z.shape[:2]
    zf = z.reshape((w_steps * batch,) + z.shape[2:])
    if s is None:
        a, cache = zf, None
    else:
        a, cache = pool_forward(zf, "adaptive_avg", s)
    a2 = a.reshape(a.shape[0], -1)
    bm = lsg_matrix(n_classes, a2.shape[1], z.dtype)
    p = a2 @ bm.T
    y = np.tile(onehot(labels, n_classes, z.dtype), (w_steps, 1))
    g = (softmax(p) - y) / batch
    da = (g @ bm).reshape(a.shape)
    dz = da if cache is None else pool_backward(da, cache)
    m = pools_backward(dz, pool_caches)
    return m.reshape((w_steps, batch) + m.shape[1:]), p.reshape(w_steps, batch, n_classes)
