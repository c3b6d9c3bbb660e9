"""Scaled weight standardisation (docs/math.md §1a), as the TESS reference code trains its conv
layers (``--wn``; its BPTT model always): per output channel k, over the layer's fan-in n
(conv C_in·k·k, linear in),

    W_eff[k] = γ · gain[k] · (W[k] − mean(W[k])) / sqrt(var(W[k]) · n + eps),   eps = 1e-4,

var unbiased (n − 1); gain trained (init 1), γ a fixed constant (default 1: the formula of the
issue and MATH.md; NF-Nets' scaled WS puts the nonlinearity's γ here, and the OTTT code's
Scale(2.74) after each spiking layer is γ = 1/sqrt(p(1 − p)), p = P(N(0, 1) > 1)). The rules compute with W_eff and give their gradient G = dL/dW_eff (the
local rules: their learning signal's correlation); :func:`standardise_grad` carries it to the
trained parameters, raw W and gain:

    dL/dgain[k] = γ · Σ_i G[k,i] · Ŵ[k,i]                Ŵ = (W − mean) / s,  s = sqrt(var·n + eps)
    H  = γ · gain[k] · G[k]
    dL/dWc = H / s − Wc · Σ_i(H_i·Wc_i) · n / ((n − 1) · s³)        Wc = W − mean
    dL/dW  = dL/dWc − mean(dL/dWc)

Pure functions of arrays; shapes ``w [C_out, …]`` (any trailing fan-in shape), ``gain [C_out]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tess_sim.simulator.functional import kernels
from tess_sim.simulator.functional.parallel import parts, run_parts
from tess_sim.simulator.network import Net

#: the reference's epsilon inside the square root
WS_EPS = 1e-4


@dataclass(frozen=True)
class Standardised:
    """What the backward needs of one standardisation: centred weights ``wc [C_out, n]``,
    ``s [C_out, 1]``, ``gain [C_out, 1]``, γ, the weights' shape and the standardised weights
    ``what = wc / s [C_out, n]``."""

    wc: np.ndarray
    s: np.ndarray
    gain: np.ndarray
    gamma: float
    shape: tuple[int, ...]
    what: np.ndarray


def standardise(w: np.ndarray, gain: np.ndarray, gamma: float = 1.0,
                eps: float = WS_EPS) -> tuple[np.ndarray, Standardised]:
    """(W_eff, cache) of raw weights ``w [C_out, …]``, ``gain [C_out]`` and the fixed ``gamma``,
    in w's dtype. Output channels are independent: large layers are split among threads by rows
    (:mod:`~simulator.functional.parallel`), each row computed as on one thread."""
    flat = np.ascontiguousarray(w.reshape(w.shape[0], -1))
    k, n = flat.shape
    if n < 2:
        raise ValueError(f"weight standardisation needs a fan-in of at least 2, got {n}")
    g = np.asarray(gain, dtype=w.dtype).reshape(-1, 1)
    wc, what, eff = np.empty_like(flat), np.empty_like(flat), np.empty_like(flat)
    s = np.empty((k, 1), dtype=np.result_type(flat.dtype, np.float32))

    def rows(r: slice) -> None:
        np.subtract(flat[r], flat[r].mean(axis=1, keepdims=True), out=wc[r])
        var = _row_dot(wc[r], wc[r]) / (n - 1)
        s[r] = np.sqrt(var * n + eps)
        np.divide(wc[r], s[r], out=what[r])
        np.multiply(gamma * g[r], what[r], out=eff[r])

    run_parts(rows, parts(k, n))
    return (eff.reshape(w.shape).astype(w.dtype, copy=False),
            Standardised(wc, s, g, float(gamma), w.shape, what))


def standardise_grad(g_eff: np.ndarray, cache: Standardised) -> tuple[np.ndarray, np.ndarray]:
    """(dL/dW ``[C_out, …]``, dL/dgain ``[C_out]``) from ``g_eff = dL/dW_eff`` (any layout);
    the arithmetic of the module docstring, in place on one buffer, split by rows as
    :func:`standardise`."""
    wc, s, gain = cache.wc, cache.s, cache.gain
    k, n = wc.shape
    G = np.multiply(cache.gamma, g_eff.reshape(cache.shape), order="C").reshape(wc.shape)
    dgain = np.empty(k, dtype=G.dtype)

    def rows(r: slice) -> None:
        dgain[r] = _row_dot(G[r], cache.what[r])[:, 0]
        H = np.multiply(gain[r], G[r], out=G[r])
        coef = _row_dot(H, wc[r]) * n / ((n - 1) * s[r] ** 3)
        dwc = np.divide(H, s[r], out=H)
        dwc -= wc[r] * coef
        dwc -= dwc.mean(axis=1, keepdims=True)

    run_parts(rows, parts(k, n))
    return G.reshape(cache.shape), dgain


def _row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Σ_i a[k, i]·b[k, i]`` per row, ``[C_out, 1]`` (one pass, no temporary)."""
    return np.einsum("ki,ki->k", a, b)[:, None]


def gain_key(name: str) -> str:
    """The key of a standardised layer's gain in W.npz / G.npz."""
    return name + ".gain"


@dataclass(frozen=True)
class CompiledStandardised:
    """What the compiled backward needs of one conv standardisation: the raw kernels in HWIO
    ``wt [kh*kw*C_in, C_out]`` (C-contiguous), per output channel ``mean``, ``s`` and ``gain``
    ``[C_out]``, γ, the weights' shape and whether they came stored OIHW (their gradient is
    returned in the layout they came in)."""

    wt: np.ndarray
    mean: np.ndarray
    s: np.ndarray
    gain: np.ndarray
    gamma: float
    shape: tuple[int, ...]
    oihw: bool


def hwio(w: np.ndarray) -> np.ndarray | None:
    """The ``[kh*kw*C_in, C_out]`` C-contiguous matrix behind conv kernels ``w`` indexed
    ``[C_out, C_in, kh, kw]`` when they are stored HWIO (:func:`engine_layout`), else None."""
    t = w.transpose(2, 3, 1, 0)
    return t.reshape(-1, w.shape[0]) if t.flags.c_contiguous else None


def from_matrix(wt: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The ``[C_out, C_in, kh, kw]``-indexed view of an HWIO matrix ``wt [kh*kw*C_in, C_out]``."""
    co, ci, kh, kw = shape
    return wt.reshape(kh, kw, ci, co).transpose(3, 2, 0, 1)


def engine_layout(weights: dict) -> dict:
    """``weights`` with every conv kernel stored HWIO (the same values, indexed as before
    ``[C_out, C_in, kh, kw]``): the layout of the engine's GEMMs, in which the compiled
    standardisation streams and returns its gradient without a transpose.  A training loop
    keeps its weights so (elementwise updates keep the layout); W.npz is written OIHW."""
    out = dict(weights)
    for name, w in weights.items():
        if getattr(w, "ndim", 0) == 4 and hwio(w) is None:
            out[name] = from_matrix(np.ascontiguousarray(w.transpose(2, 3, 1, 0))
                                    .reshape(-1, w.shape[0]), w.shape)
    return out


def effective_weights(net: Net, weights: dict, dtype=None) -> tuple[dict, dict]:
    """``weights`` with every standardised block's W replaced by W_eff (in ``dtype``, default the
    weights' own), and the caches per block name for :func:`raw_gradients`. Unstandardised
    entries are the same arrays (no copy).  Conv kernels go through the compiled kernels where
    they are built (:mod:`.kernels`: W_eff made in HWIO, the GEMM's operand; kernels stored
    OIHW are transposed to it first), else through :func:`standardise`."""
    out, caches = dict(weights), {}
    for b in net.blocks:
        if b.standardised:
            w = weights[b.name] if dtype is None else weights[b.name].astype(dtype, copy=False)
            gain = np.asarray(weights[gain_key(b.name)], dtype=w.dtype)
            k = kernels.get(w.dtype) if w.ndim == 4 else None
            if k is not None:
                wt = hwio(w)
                oihw = wt is None
                if oihw:
                    wt = kernels.to_hwio(k, np.ascontiguousarray(w))
                eff, mean, s = kernels.standardise(k, wt, gain, b.ws_gamma, WS_EPS)
                caches[b.name] = CompiledStandardised(wt, mean, s, gain, float(b.ws_gamma),
                                                      w.shape, oihw)
                out[b.name] = from_matrix(eff, w.shape)
                continue
            eff, caches[b.name] = standardise(_kernel_order(w), gain, b.ws_gamma)
            out[b.name] = _kernel_order(eff, back=True)
    return out, caches


def _kernel_order(w: np.ndarray, back: bool = False) -> np.ndarray:
    """Conv kernels are standardised in the channels-last order ``[C_out, k, k, C_in]`` of the
    engine's im2col (:func:`~simulator.functional.conv.kernel_matrix`), so that W_eff and the
    rule's gradient need no reordering; the fan-in statistics are the same sums in another
    order.  ``back``: the ``[C_out, C_in, k, k]``-indexed view of such an array.  Other shapes
    pass through."""
    if w.ndim != 4:
        return w
    return w.transpose(0, 3, 1, 2) if back else w.transpose(0, 2, 3, 1)


def raw_gradients(grads: dict, caches: dict[str, Standardised]) -> dict:
    """The rule's gradients w.r.t. W_eff carried to the trained parameters: each standardised
    block's entry becomes dL/dW and ``<name>.gain`` its gain's gradient (other entries unchanged;
    a block the rule does not train, as under ``readout``, stays without one)."""
    out = dict(grads)
    for name, cache in caches.items():
        if name not in grads:
            continue
        if isinstance(cache, CompiledStandardised):
            k = kernels.typed(cache.wt.dtype)
            # the weight-gradient GEMM's HWIO result (a copy only if it is not)
            G = np.ascontiguousarray(grads[name].transpose(2, 3, 1, 0),
                                     dtype=cache.wt.dtype).reshape(cache.wt.shape)
            dwt, out[gain_key(name)] = kernels.standardise_grad(
                k, G, cache.wt, cache.gain, cache.mean, cache.s, cache.gamma)
            out[name] = (kernels.from_hwio(k, dwt, cache.shape) if cache.oihw
                         else from_matrix(dwt, cache.shape))
            continue
        dw, out[gain_key(name)] = standardise_grad(_kernel_order(grads[name]), cache)
        out[name] = np.ascontiguousarray(_kernel_order(dw, back=True))
    return out
