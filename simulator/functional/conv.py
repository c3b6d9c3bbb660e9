"""Convolution, its weight-gradient correlation and its transpose, by im2col + BLAS.

All tensors are batch-first NCHW: ``x [N, C_in, H, W]``, ``w [C_out, C_in, k, k]``,
``e [N, C_out, Ho, Wo]`` (an error / learning signal at the conv output).  N is any leading
batch, the engine folds time into it (``N = T * batch``).  No Python loop runs over positions:
the only loops are over the k*k kernel offsets in :func:`conv2d_transpose` (col2im).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tess_sim.simulator.shapes import conv_out_hw


def _pad(x: np.ndarray, p: int) -> np.ndarray:
    if p == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def im2col(x: np.ndarray, k: int, stride: int, padding: int) -> tuple[np.ndarray, int, int]:
    """Receptive fields as rows: ``cols [N*Ho*Wo, C_in*k*k]`` (rows in (n, ho, wo) order, columns
    in (c, i, j) order, matching ``w.reshape(C_out, -1)``), plus Ho, Wo."""
    n, c, h, w = x.shape
    ho, wo = conv_out_hw(h, w, k, stride, padding)
    v = sliding_window_view(_pad(x, padding), (k, k), axis=(2, 3))  # [N,C,H',W',k,k]
    v = v[:, :, : (ho - 1) * stride + 1: stride, : (wo - 1) * stride + 1: stride]
    cols = np.ascontiguousarray(v.transpose(0, 2, 3, 1, 4, 5)).reshape(n * ho * wo, c * k * k)
    return cols, ho, wo


def conv2d(x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0,
           bias: np.ndarray | None = None, cols: np.ndarray | None = None) -> np.ndarray:
    """Cross-correlation (PyTorch ``conv2d``): ``[N, C_in, H, W] -> [N, C_out, Ho, Wo]``."""
    n = x.shape[0]
    co, _, k, _ = w.shape
    if cols is None:
        cols, ho, wo = im2col(x, k, stride, padding)
    else:
        ho, wo = conv_out_hw(x.shape[2], x.shape[3], k, stride, padding)
    out = cols @ w.reshape(co, -1).T  # [N*Ho*Wo, C_out]
    if bias is not None:
        out += bias
    return np.ascontiguousarray(out.reshape(n, ho, wo, co).transpose(0, 3, 1, 2))


def _e_mat(e: np.ndarray) -> np.ndarray:
    """``[N, C_out, Ho, Wo] -> [C_out, N*Ho*Wo]`` (columns in im2col row order)."""
    co = e.shape[1]
    return e.transpose(1, 0, 2, 3).reshape(co, -1)


def conv2d_weight_grad(x: np.ndarray, e: np.ndarray, k: int, stride: int = 1,
                       padding: int = 0, cols: np.ndarray | None = None) -> np.ndarray:
    """corr(x, e): ``dW[co,ci,i,j] = sum_{n,ho,wo} e[n,co,ho,wo] * xpad[n,ci,ho*s+i,wo*s+j]``,
    i.e. the gradient of ``sum(e * conv2d(x, W))`` w.r.t. W, summed over N.  -> ``[C_out,C_in,k,k]``."""
    if cols is None:
        cols, _, _ = im2col(x, k, stride, padding)
    co = e.shape[1]
    return (_e_mat(e) @ cols).reshape(co, x.shape[1], k, k)


def conv2d_transpose(e: np.ndarray, w: np.ndarray, in_hw: tuple[int, int], stride: int = 1,
                     padding: int = 0) -> np.ndarray:
    """Transposed conv (gradient of ``sum(e * conv2d(x, w))`` w.r.t. x):
    ``[N, C_out, Ho, Wo] -> [N, C_in, H, W]``.  One GEMM, then col2im over the k*k offsets."""
    n, co, ho, wo = e.shape
    _, ci, k, _ = w.shape
    h, wd = in_hw
    erows = e.transpose(0, 2, 3, 1).reshape(n * ho * wo, co)
    dcols = (erows @ w.reshape(co, -1)).reshape(n, ho, wo, ci, k, k)
    dxp = np.zeros((n, ci, h + 2 * padding, wd + 2 * padding), dtype=dcols.dtype)
    dcols = dcols.transpose(0, 3, 4, 5, 1, 2)  # [N, C_in, k, k, Ho, Wo]
    for i in range(k):
        for j in range(k):
            dxp[:, :, i: i + stride * (ho - 1) + 1: stride,
                j: j + stride * (wo - 1) + 1: stride] += dcols[:, :, i, j]
    return dxp[:, :, padding: padding + h, padding: padding + wd]


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
