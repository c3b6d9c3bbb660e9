"""Pooling forward and backward on ``[N, C, H, W]`` (non-overlapping windows).

"max" / "avg": size×size windows with stride size (floor: trailing rows/columns that do not
fill a window are dropped and get zero gradient).  "adaptive_avg" to s×s with exact division is
the avg pool with window (H/s, W/s).  Windows and output sizes come from :mod:`simulator.shapes`;
a block's pools are its ``Block.pools`` (:class:`simulator.network.Pool`, ``kind`` and ``size``).  Max backward routes each window's gradient to the FIRST
maximal element in row-major order within the window (PyTorch semantics; with binary spikes
ties are the rule).

Layout: inputs of any memory layout; outputs are stored channels-last (NCHW-indexed views of
``[N, H, W, C]`` arrays, as :mod:`~simulator.functional.conv` returns its maps), so a block's
maps keep one layout from the convolution to the learning signal.  The only loops are over the
kh*kw offsets of a window; max pooling splits its samples among threads (:mod:`.parallel`),
each part one call of the compiled kernel where it is built (:mod:`.kernels`).
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.functional import kernels
from tess_sim.simulator.functional.conv import channels_first, channels_last
from tess_sim.simulator.functional.parallel import parts, run_parts
from tess_sim.simulator.shapes import pool_out_hw, pool_window


def _windows(x: np.ndarray, kh: int, kw: int, ho: int, wo: int) -> np.ndarray:
    """``[N,H,W,C] -> [N,Ho,kh,Wo,kw,C]`` (a view where the layout allows)."""
    n, c = x.shape[0], x.shape[3]
    return x[:, : ho * kh, : wo * kw].reshape(n, ho, kh, wo, kw, c)


def pool_forward(x: np.ndarray, kind: str, size: int) -> tuple[np.ndarray, tuple]:
    """Pool ``x [N,C,H,W]`` (``kind`` max | avg | adaptive_avg, ``size``); returns (pooled
    ``[N,C,Ho,Wo]``, cache for :func:`pool_backward`; for max the cache holds the row-major
    window offset of each output's first maximum, ``[N,Ho,Wo,C]`` unsigned ints)."""
    h, w = x.shape[2], x.shape[3]
    kh, kw = pool_window(kind, size, h, w)
    ho, wo = pool_out_hw(kind, size, h, w)
    k = _kernel(kind, channels_last(x), kh, kw)
    if k is not None:
        out, idx = kernels.maxpool(k, channels_last(x), kh, kw, ho, wo)
        return channels_first(out), (kind, x.shape, kh, kw, idx)
    v = _windows(channels_last(x), kh, kw, ho, wo)
    if kind == "max":
        out = np.empty(v[:, :, 0, :, 0].shape, dtype=v.dtype)
        idx = np.zeros(out.shape, dtype=np.min_scalar_type(kh * kw - 1))

        def samples(r: slice) -> None:
            o, i = out[r], idx[r]
            np.copyto(o, v[r, :, 0, :, 0])
            for q in range(1, kh * kw):  # strictly greater: the first maximum in row-major order wins
                cand = v[r, :, q // kw, :, q % kw]
                better = cand > o
                np.copyto(o, cand, where=better)
                np.copyto(i, q, where=better)

        run_parts(samples, parts(out.shape[0], x[0].size))
        return channels_first(out), (kind, x.shape, kh, kw, idx)
    return channels_first(v.mean(axis=(2, 4))), (kind, x.shape, kh, kw, None)


def pool_backward(g: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient w.r.t. the pool input, ``[N,C,Ho,Wo] -> [N,C,H,W]`` (stored channels-last)."""
    kind, shape, kh, kw, idx = cache
    n, c, h, w = shape
    ho, wo = g.shape[2], g.shape[3]
    gl = channels_last(g)
    k = _kernel(kind, gl, kh, kw, idx)
    if k is not None:
        return channels_first(kernels.maxpool_grad(k, gl, idx, h, w, kh, kw))
    full = ho * kh == h and wo * kw == w
    out = (np.empty if full else np.zeros)((n, h, w, c), dtype=g.dtype)
    v = _windows(out, kh, kw, ho, wo)
    if kind == "max":
        zero = np.zeros((), dtype=g.dtype)

        def samples(r: slice) -> None:
            for q in range(kh * kw):
                np.copyto(v[r, :, q // kw, :, q % kw], np.where(idx[r] == q, gl[r], zero))

        run_parts(samples, parts(n, h * w * c))
    else:
        v[...] = (gl / (kh * kw))[:, :, None, :, None]
    return channels_first(out)


def _kernel(kind: str, a: np.ndarray, kh: int, kw: int, idx: np.ndarray | None = None):
    """The compiled max-pool kernels for ``a`` (channels-last; ``idx`` the offsets, backward),
    or None: another pool kind, a layout they do not take, windows over 256 elements (uint8
    offsets) or not built."""
    if kind != "max" or kh * kw > 256 or not a.flags.c_contiguous:
        return None
    if idx is not None and (idx.dtype != np.uint8 or not idx.flags.c_contiguous):
        return None
    return kernels.get(a.dtype)


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
