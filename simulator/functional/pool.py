"""Pooling forward and backward on ``[N, C, H, W]`` (non-overlapping windows).

"max" / "avg": size×size windows with stride size (floor: trailing rows/columns that do not
fill a window are dropped and get zero gradient).  "adaptive_avg" to s×s with exact division is
the avg pool with window (H/s, W/s).  Windows and output sizes come from :mod:`simulator.shapes`;
a block's pools are its ``Block.pools`` (:class:`simulator.network.Pool`, ``kind`` and ``size``).  Max backward routes each window's gradient to the FIRST
maximal element in row-major order within the window (PyTorch semantics; with binary spikes
ties are the rule).
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.shapes import pool_out_hw, pool_window


def _windows(x: np.ndarray, kh: int, kw: int, ho: int, wo: int) -> np.ndarray:
    """``[N,C,H,W] -> [N,C,Ho,Wo,kh*kw]`` (window elements in row-major order)."""
    n, c = x.shape[:2]
    v = x[:, :, : ho * kh, : wo * kw].reshape(n, c, ho, kh, wo, kw).transpose(0, 1, 2, 4, 3, 5)
    return v.reshape(n, c, ho, wo, kh * kw)


def pool_forward(x: np.ndarray, kind: str, size: int) -> tuple[np.ndarray, tuple]:
    """Pool ``x [N,C,H,W]`` (``kind`` max | avg | adaptive_avg, ``size``); returns (pooled
    ``[N,C,Ho,Wo]``, cache for :func:`pool_backward`)."""
    h, w = x.shape[2], x.shape[3]
    kh, kw = pool_window(kind, size, h, w)
    v = _windows(x, kh, kw, *pool_out_hw(kind, size, h, w))
    if kind == "max":
        idx = np.argmax(v, axis=-1)  # first maximum, row-major in the window
        out = np.take_along_axis(v, idx[..., None], axis=-1)[..., 0]
        return out, (kind, x.shape, kh, kw, idx)
    return v.mean(axis=-1), (kind, x.shape, kh, kw, None)


def pool_backward(g: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient w.r.t. the pool input, ``[N,C,Ho,Wo] -> [N,C,H,W]``."""
    kind, shape, kh, kw, idx = cache
    n, c, h, w = shape
    ho, wo = g.shape[2], g.shape[3]
    if kind == "max":
        gv = np.zeros((n, c, ho, wo, kh * kw), dtype=g.dtype)
        np.put_along_axis(gv, idx[..., None], g[..., None], axis=-1)
    else:
        gv = np.broadcast_to((g / (kh * kw))[..., None], (n, c, ho, wo, kh * kw))
    gv = gv.reshape(n, c, ho, wo, kh, kw).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho * kh, wo * kw)
    if ho * kh == h and wo * kw == w:
        return np.ascontiguousarray(gv)
    out = np.zeros(shape, dtype=g.dtype)
    out[:, :, : ho * kh, : wo * kw] = gv
    return out


def pools_forward(x: np.ndarray, pools) -> tuple[np.ndarray, list]:
    """Apply a block's pools (each with ``kind`` and ``size``) in order; returns (output, caches)."""
    caches = []
    for p in pools:
        x, cache = pool_forward(x, p.kind, p.size)
        caches.append(cache)
    return x, caches


def pools_backward(g: np.ndarray, caches: list) -> np.ndarray:
    for cache in reversed(caches):
        g = pool_backward(g, cache)
    return g
