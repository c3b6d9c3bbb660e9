"""Shape arithmetic of convolutions and pools, written once: output sizes and the border-exact fan-out.

Everything here is per axis (one spatial dimension of a map) or per (H, W) plane, pure and exact:
sizes are Python ints, fan-outs int64 arrays. :mod:`simulator.network` resolves a workload's
layers with these functions and the functional engine (conv, pool, activity) slices its arrays
with them, so the counting side and the numerics agree on every shape by construction.

Conventions (PyTorch's): a window of ``k`` taps slides by ``stride`` over ``n`` inputs that carry
``pad`` zeros on both sides; output position ``o`` reads inputs ``o·stride − pad + j`` for
``j = 0..k−1``; a window that does not fit wholly inside the padded input is dropped (floor).
Padding is not an input: the border-exact fan-out counts only taps that land on a real input.
"""

from __future__ import annotations

import numpy as np

def conv_out(n: int, k: int, stride: int = 1, pad: int = 0) -> int:
    """Output positions along one axis: ``(n + 2·pad − k) // stride + 1``.

    ``n`` inputs, ``k`` taps, ``stride`` ≥ 1, ``pad`` ≥ 0 zeros on each side. The count of window
    starts ``o·stride`` (o ≥ 0) with ``o·stride + k ≤ n + 2·pad``; it is < 1 when the window is
    larger than the padded input (callers refuse that)."""
    return (n + 2 * pad - k) // stride + 1


def conv_out_hw(h: int, w: int, k: int, stride: int = 1, pad: int = 0) -> tuple[int, int]:
    """Output (H_out, W_out) of a k×k convolution over an h×w map (:func:`conv_out` on each axis)."""
    return conv_out(h, k, stride, pad), conv_out(w, k, stride, pad)


def pool_window(kind: str, size: int, h: int, w: int) -> tuple[int, int]:
    """Window (rows, columns) of one pool output element over an h×w map.

    ``max`` / ``avg``: size×size; ``adaptive_avg`` to size×size: (h // size, w // size), exact
    when size divides h and w (the network refuses other maps)."""
    if kind == "adaptive_avg":
        return h // size, w // size
    return size, size


def pool_out_hw(kind: str, size: int, h: int, w: int) -> tuple[int, int]:
    """Output (H_out, W_out) of a pool over an h×w map.

    A pool is a window sliding by its own size with no padding, so ``max`` / ``avg`` give
    :func:`conv_out` with k = stride = size, i.e. h // size (trailing rows and columns that do not
    fill a window are dropped); ``adaptive_avg`` gives size×size."""
    if kind == "adaptive_avg":
        return size, size
    return conv_out(h, size, size), conv_out(w, size, size)


def taps_per_input(n_in: int, k: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Border-exact fan-out along one axis: for each of the ``n_in`` input positions, the number
    of (output position, tap) pairs that read it, over the :func:`conv_out` output positions.
    Returns int64 ``[n_in]``; its sum is the number of taps that land inside the map (padding is
    not an input), at most ``conv_out(...) · k``."""
    n_out = conv_out(n_in, k, stride, pad)
    idx = np.arange(max(n_out, 0))[:, None] * stride - pad + np.arange(k)[None, :]
    idx = idx[(idx >= 0) & (idx < n_in)]
    return np.bincount(idx, minlength=n_in).astype(np.int64)

