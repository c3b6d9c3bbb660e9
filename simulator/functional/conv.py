"""Convolution, its weight-gradient correlation and its transpose, by im2col + BLAS.

All tensors are indexed batch-first NCHW: ``x [N, C_in, H, W]``, ``w [C_out, C_in, k, k]``,
``e [N, C_out, Ho, Wo]`` (an error / learning signal at the conv output).  N is any leading
batch, the engine folds time into it (``N = T * batch``).

Memory layout.  The maps are *stored* channels-last: what :func:`conv2d` and
:func:`conv2d_transpose` return is the NCHW-indexed view ``a.transpose(0, 3, 1, 2)`` of a
C-contiguous ``[N, H, W, C]`` array.  Then the GEMM's output ``[N*Ho*Wo, C_out]`` is the map
itself (no transpose copy), the im2col gathers runs of C contiguous values, and the weight
gradient reads the signal ``e`` in place as ``[N*Ho*Wo, C_out]``; elementwise numpy on these
views keeps the layout (ufuncs allocate in the operands' memory order).  The functions take any
layout (a C-contiguous NCHW ``x`` is gathered once).  No Python loop runs over positions: the
only loops are over the kernel offsets (im2col, col2im).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tess_sim.simulator.functional import kernels
from tess_sim.simulator.functional.parallel import parts, run_parts
from tess_sim.simulator.shapes import conv_out_hw


def channels_last(a: np.ndarray) -> np.ndarray:
    """``[N, C, H, W]`` (any memory layout) -> the ``[N, H, W, C]`` view of the same array."""
    return a.transpose(0, 2, 3, 1)


def channels_first(a: np.ndarray) -> np.ndarray:
    """``[N, H, W, C]`` -> its NCHW-indexed view ``[N, C, H, W]`` (no copy)."""
    return a.transpose(0, 3, 1, 2)


def kernel_matrix(w: np.ndarray) -> np.ndarray:
    """``w [C_out, C_in, k, k]`` -> ``[C_out, k*k*C_in]``, columns in (i, j, c) order: the im2col
    column order of :func:`im2col` (a view of kernels stored HWIO, the engine's layout, else a
    copy)."""
    return w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1)


def _rows(e: np.ndarray) -> np.ndarray:
    """``e [N, C, H, W]`` -> ``[N*H*W, C]`` (rows in (n, h, w) order); no copy when e is stored
    channels-last."""
    n, c, h, w = e.shape
    return channels_last(e).reshape(n * h * w, c)


def im2col(x: np.ndarray, k: int, stride: int, padding: int) -> tuple[np.ndarray, int, int]:
    """Receptive fields as rows: ``cols [N*Ho*Wo, k*k*C_in]`` (rows in (n, ho, wo) order, columns
    in (i, j, c) order, matching :func:`kernel_matrix`), plus Ho, Wo.

    Channels-last, the k*C_in values of one kernel row i of one receptive field are contiguous
    in the (padded) map, so the gather is k strided copies of runs of k*C_in values (one pass
    of the compiled kernel where it is built, :mod:`.kernels`)."""
    n, c, h, w = x.shape
    ho, wo = conv_out_hw(h, w, k, stride, padding)
    ker = kernels.get(x.dtype)
    if ker is not None:
        return kernels.im2col(ker, np.ascontiguousarray(channels_last(x)), k, stride, padding,
                              ho, wo), ho, wo
    hp, wp = h + 2 * padding, w + 2 * padding
    xp = np.zeros((n, hp, wp, c), dtype=x.dtype) if padding else None
    cols = np.empty((n, ho, wo, k, k * c), dtype=x.dtype)
    sc = x.dtype.itemsize  # canonical C-contiguous strides (numpy may keep any stride on a size-1 axis)
    strides = (hp * wp * c * sc, stride * wp * c * sc, stride * c * sc, sc)

    def fill(part: slice) -> None:  # the receptive fields of samples `part`
        if padding:
            src = xp[part]
            src[:, padding: padding + h, padding: padding + w] = channels_last(x[part])
        else:
            src = np.ascontiguousarray(channels_last(x[part]))
        m = src.shape[0]
        for i in range(k):
            cols[part, :, :, i] = as_strided(src[:, i:], shape=(m, ho, wo, k * c),
                                             strides=strides, writeable=False)

    run_parts(fill, parts(n, ho * wo * k * k * c))
    return cols.reshape(n * ho * wo, k * k * c), ho, wo


def conv2d(x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0,
           bias: np.ndarray | None = None, cols: np.ndarray | None = None) -> np.ndarray:
    """Cross-correlation (PyTorch ``conv2d``): ``[N, C_in, H, W] -> [N, C_out, Ho, Wo]`` (stored
    channels-last).  ``cols``: the :func:`im2col` of x, if already made."""
    n = x.shape[0]
    co, _, k, _ = w.shape
    if cols is None:
        cols, ho, wo = im2col(x, k, stride, padding)
    else:
        ho, wo = conv_out_hw(x.shape[2], x.shape[3], k, stride, padding)
    out = cols @ kernel_matrix(w).T  # [N*Ho*Wo, C_out]: the map, channels-last
    if bias is not None:
        out += bias
    return channels_first(out.reshape(n, ho, wo, co))


def conv2d_weight_grad(x: np.ndarray, e: np.ndarray, k: int, stride: int = 1,
                       padding: int = 0, cols: np.ndarray | None = None) -> np.ndarray:
    """corr(x, e): ``dW[co,ci,i,j] = sum_{n,ho,wo} e[n,co,ho,wo] * xpad[n,ci,ho*s+i,wo*s+j]``,
    i.e. the gradient of ``sum(e * conv2d(x, W))`` w.r.t. W, summed over N.  -> ``[C_out,C_in,k,k]``
    (a view of the GEMM's ``[k, k, C_in, C_out]`` result: whoever uses it next, the
    standardisation's backward or the optimiser, makes its one pass).  One GEMM ``colsᵀ · e``."""
    if cols is None:
        cols, _, _ = im2col(x, k, stride, padding)
    co, ci = e.shape[1], x.shape[1]
    g = cols.T @ _rows(e)  # [k*k*C_in, C_out]
    return g.reshape(k, k, ci, co).transpose(3, 2, 0, 1)


def conv2d_transpose(e: np.ndarray, w: np.ndarray, in_hw: tuple[int, int], stride: int = 1,
                     padding: int = 0) -> np.ndarray:
    """Transposed conv (gradient of ``sum(e * conv2d(x, w))`` w.r.t. x):
    ``[N, C_out, Ho, Wo] -> [N, C_in, H, W]`` (stored channels-last).  One GEMM, then col2im
    over the k*k offsets (one pass of the compiled kernel where it is built), split by sample
    among threads."""
    n, co, ho, wo = e.shape
    _, ci, k, _ = w.shape
    h, wd = in_hw
    dcols = (_rows(e) @ kernel_matrix(w)).reshape(n, ho, wo, k, k, ci)
    ker = kernels.get(dcols.dtype)
    if ker is not None:
        return channels_first(kernels.col2im(ker, dcols, h, wd, stride, padding))
    dxp = np.zeros((n, h + 2 * padding, wd + 2 * padding, ci), dtype=dcols.dtype)

    def samples(r: slice) -> None:  # col2im; the samples are independent (split among threads)
        for i in range(k):
            for j in range(k):
                dxp[r, i: i + stride * (ho - 1) + 1: stride,
                    j: j + stride * (wo - 1) + 1: stride] += dcols[r, :, :, i, j]

    run_parts(samples, parts(n, dxp[0].size))
    return channels_first(dxp[:, padding: padding + h, padding: padding + wd])


def linear(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """``[N, in] -> [N, out]``: x Wᵀ (+ b)."""
    out = x @ w.T
    if bias is not None:
        out += bias
    return out


def linear_weight_grad(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """corr(x, e) = eᵀ x summed over N: ``[out, in]``."""
    return e.T @ x


def linear_transpose(e: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``[N, out] -> [N, in]``: e W."""
    return e @ w
