"""Weight gradients of the three learning rules (docs/math.md §2-4) — the gradient, not the update.

* ``bptt``: gradient of CE(softmax(sum_t y[t])) (batch mean) by exact reverse mode through time
  and layers; dH/du := Psi, the reset term v_reset*o[t] is a constant (for "zero" reset
  u+ = u*(1-o) the factor (1-o) is kept, o constant).  ``window`` does not apply.
* ``stllr`` / ``tess``: sum over the learning window (t >= T - window) of the per-step local
  gradients ``alpha_pre*corr(tr_x[t], m⊙Psi) + alpha_post*corr(x[t], m⊙tr_Psi[t-1])`` with the
  S-TLLR (per-step backprop through the layers of that step) or TESS (LSG) learning signal m.
  The readout gets the gradient of its per-step CE(y[t]) (batch mean) summed over the window.
* ``readout``: the frozen-hidden control — only the readout gradient of the local rules.

Biases (optional) of spiking blocks: for the local rules a bias is a synapse from a constant-1
input whose pre-trace is tr_1[t] = sum_{k<=t} lambda_pre^k; for BPTT the exact gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.functional import kernels
from tess_sim.simulator.functional.lsg import lsg_signal, onehot, softmax
from tess_sim.simulator.functional.network import (block_corr, block_transpose, forward,
                                                   forward_effective, readout_input, spike_counts)
from tess_sim.simulator.functional.neuron import trace_sequence
from tess_sim.simulator.functional.parallel import parts, run_parts, step_columns
from tess_sim.simulator.functional.pool import pools_backward
from tess_sim.simulator.functional.standardise import effective_weights, raw_gradients
from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.tess import TESS
from tess_sim.simulator.vocab import RULE_NAMES

#: the rules whose gradients the functional engine computes (readout: the readout alone learns)
GRADIENTS = (*RULE_NAMES, "readout")
ALIASES = {"s-tllr": "stllr", "s_tllr": "stllr", "frozen": "readout"}


@dataclass(frozen=True)
class RuleParams:
    """Eligibility-trace rule parameters (docs/math.md §3-4); a workload's come from its
    ``rules`` section (:func:`simulator.measured.bridge.rule_params`).

    ``window`` None means T (every step learns); otherwise steps t >= T - window learn.
    ``lsg_pool``: TESS LSG pool size s_l per block (one entry per block; entries of linear blocks
    are ignored: a linear block's latent is its output, D_l = out features).  Empty means s_l = 1
    (global average) for every conv block.
    """

    lambda_pre: float = 0.5
    lambda_post: float = 0.2
    alpha_pre: float = 1.0
    alpha_post: float = 1.0
    window: int | None = None
    lsg_pool: tuple[int, ...] = ()


def lsg_sizes(net: Net, params: RuleParams, where: str = "rule") -> list[int | None]:
    """s_l per block (None for linear blocks: the latent is the output itself), after the rule's
    own check of ``lsg_pool`` (:meth:`tess_sim.simulator.rules.tess.TESS.check`)."""
    TESS.check(net, params, where)
    return [None if b.kind == "linear" else (int(params.lsg_pool[i]) if params.lsg_pool else 1)
            for i, b in enumerate(net.blocks)]


def _fold(a):
    return a.reshape((a.shape[0] * a.shape[1],) + a.shape[2:])


def _unfold(a, t):
    return a.reshape((t, a.shape[0] // t) + a.shape[1:])


def _bias_axes(e: np.ndarray) -> tuple[int, ...]:
    """Sum over all axes but the channel axis (axis 2 of [T,B,C,...])."""
    return tuple(i for i in range(e.ndim) if i != 2)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Batch-mean CE of softmax(logits [B, C])."""
    z = logits - logits.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=-1))
    return float(np.mean(lse - z[np.arange(len(labels)), labels]))


def bptt_loss(net: Net, weights: dict, x: np.ndarray, labels: np.ndarray,
              dtype=np.float64, smooth_forward: bool = False) -> float:
    """The BPTT objective CE(softmax(sum_t y[t])), batch mean (``smooth_forward`` as in
    :func:`~simulator.functional.network.forward`)."""
    _, y = forward(net, weights, x, dtype, smooth_forward=smooth_forward)
    return cross_entropy(y.sum(axis=0), np.asarray(labels))


def bptt_gradients(net: Net, weights: dict, x: np.ndarray, labels: np.ndarray,
                   dtype=np.float64, trace: bool = False,
                   smooth_forward: bool = False) -> tuple[dict, dict]:
    """Returns (grads, info) with info keys ``y``, ``spikes``, ``loss`` and, with trace, per block
    ``<name>.m`` (dL/d spike) and ``<name>.delta`` (dL/du), ``[T, B, *neuron]``.
    ``smooth_forward`` (test-only) as in :func:`~simulator.functional.network.forward`."""
    eff, _ = effective_weights(net, weights, dtype)  # the rule's gradients are dL/dW_eff
    return _bptt(net, eff, x, labels, dtype, trace, smooth_forward)


def _bptt(net: Net, eff: dict, x, labels, dtype, trace: bool, smooth_forward: bool):
    """:func:`bptt_gradients` with the effective weights ``eff`` already made."""
    labels = np.asarray(labels)
    records, y = forward_effective(net, eff, x, dtype, smooth_forward=smooth_forward)
    t_steps, batch, n_cls = y.shape
    r = net.readout
    gy = (softmax(y.sum(axis=0)) - onehot(labels, n_cls, dtype)) / batch  # [B, C]
    h = readout_input(records)
    grads = {r.name: gy.T @ h.sum(axis=0)}
    if r.bias:
        grads[r.name + ".bias"] = t_steps * gy.sum(axis=0)
    info = {"y": y, "spikes": spike_counts(records),
            "loss": cross_entropy(y.sum(axis=0), labels)}
    dh = np.broadcast_to(gy @ eff[r.name].astype(dtype, copy=False), h.shape)
    dz = dh.reshape(records[-1].z.shape)
    for li in range(len(net.blocks) - 1, -1, -1):
        b, rec = net.blocks[li], records[li]
        p = b.neuron
        ds = _unfold(pools_backward(_fold(dz), rec.pool_caches), t_steps)
        # dL/du[t] = dL/ds[t]·Psi[t] + beta·dL/du[t+1]·keep[t], keep = 1 (subtract) or 1 − o[t]
        delta = np.multiply(ds, rec.psi)
        for t in range(t_steps - 2, -1, -1):
            carry = p.beta * delta[t + 1]
            if p.reset != "subtract":
                carry *= 1.0 - rec.o[t]
            delta[t] += carry
        grads[b.name] = block_corr(b, rec.x, delta, cols=rec.cols)
        if b.bias:
            grads[b.name + ".bias"] = delta.sum(axis=_bias_axes(delta))
        if trace:
            info[b.name + ".m"] = ds
            info[b.name + ".delta"] = delta
        if li > 0:
            w = eff[b.name].astype(dtype, copy=False)
            dz = block_transpose(b, w, delta).reshape(records[li - 1].z.shape)
    return grads, info


def local_gradients(net: Net, rule: str, params: RuleParams, weights: dict, x: np.ndarray,
                    labels: np.ndarray, dtype=np.float32, trace: bool = False,
                    where: str = "rule") -> tuple[dict, dict]:
    """S-TLLR / TESS / readout-only gradients.  Returns (grads, info); info has ``y``,
    ``spikes`` and, with trace, per block ``<name>.tr_x [T,B,*in]``, ``<name>.tr_psi``
    ``[T,B,*neuron]`` (zeros when alpha_post = 0), ``<name>.m [T,B,*neuron]`` (learning signal,
    zero outside the window) and for TESS ``<name>.p [T,B,n_classes]`` (local logits, zero
    outside the window)."""
    eff, _ = effective_weights(net, weights, dtype)  # the rule's gradients are dL/dW_eff
    return _local(net, rule, params, eff, x, labels, dtype, trace, where)


def _local(net: Net, rule: str, params: RuleParams, eff: dict, x, labels, dtype,
           trace: bool, where: str):
    """:func:`local_gradients` with the effective weights ``eff`` already made."""
    rule = ALIASES.get(rule, rule)
    labels = np.asarray(labels)
    records, y = forward_effective(net, eff, x, dtype, keep_cols=rule != "readout")
    t_steps, batch, n_cls = y.shape
    win = t_steps if params.window is None else int(params.window)
    if win < 1:
        raise UserError(where, "window", f"must be at least 1, got {params.window}")
    w0 = t_steps - min(win, t_steps)  # a window longer than T is every step, as learning_mask
    r = net.readout
    gy = (softmax(y[w0:]) - onehot(labels, n_cls, dtype)[None]) / batch  # [W, B, C]
    h = readout_input(records)[w0:]
    grads = {r.name: _fold(gy).T @ _fold(h)}
    if r.bias:
        grads[r.name + ".bias"] = gy.sum(axis=(0, 1))
    info = {"y": y, "spikes": spike_counts(records)}
    if rule == "readout":
        return grads, info

    # learning signals m[l] over the window, [W, B, *neuron]
    signals: list = [None] * len(net.blocks)
    if rule == "stllr":
        dz = (gy @ eff[r.name].astype(dtype, copy=False)).reshape(records[-1].z[w0:].shape)
        for li in range(len(net.blocks) - 1, -1, -1):
            b, rec = net.blocks[li], records[li]
            caches = _window_caches(rec.pool_caches, w0 * batch)
            m = _unfold(pools_backward(_fold(dz), caches), win)
            signals[li] = m
            if li > 0:
                w = eff[b.name].astype(dtype, copy=False)
                e = m * rec.psi[w0:]
                dz = block_transpose(b, w, e).reshape(records[li - 1].z[w0:].shape)
    elif rule == "tess":
        sizes = lsg_sizes(net, params, where)
        for li, rec in enumerate(records):
            caches = _window_caches(rec.pool_caches, w0 * batch)
            m, p = lsg_signal(rec.z[w0:], labels, n_cls, sizes[li], caches)
            signals[li] = m
            if trace:
                info[net.blocks[li].name + ".p"] = _pad_window(p, w0)
    else:
        raise UserError(where, "rule", f"unknown rule {rule!r}; use one of {', '.join(GRADIENTS)}")

    for li, (b, rec) in enumerate(zip(net.blocks, records)):
        m = signals[li]
        e, tr_psi, e1_sum, e2_sum = _eligibility_error(m, rec.psi, w0, params, b.bias)
        grads[b.name] = block_corr(b, rec.x, e.astype(rec.x.dtype, copy=False), cols=rec.cols)
        if b.bias:
            tr1 = np.array([np.sum(params.lambda_pre ** np.arange(t + 1)) for t in range(t_steps)])
            gb = params.alpha_pre * np.tensordot(tr1[w0:].astype(dtype), e1_sum, axes=(0, 0))
            if tr_psi is not None:
                gb = gb + params.alpha_post * e2_sum
            grads[b.name + ".bias"] = gb
        if trace:
            info[b.name + ".tr_x"] = trace_sequence(rec.x, params.lambda_pre)
            info[b.name + ".tr_psi"] = (tr_psi if tr_psi is not None
                                        else np.zeros_like(rec.psi))
            info[b.name + ".m"] = _pad_window(m, w0)
    return grads, info


def _eligibility_error(m: np.ndarray, ps: np.ndarray, w0: int, params: RuleParams, bias: bool):
    """The one signal ``e [T, B, *neuron]`` whose correlation with x (every step) is a block's
    local weight gradient, both terms:

        tr_Psi[t] = λ_post·tr_Psi[t−1] + Psi[t]              (tr_Psi[−1] = 0)
        e1[t] = m[t]·Psi[t],   e2[t] = m[t]·tr_Psi[t−1]       (t ≥ w0, the window)
        r[t]  = λ_pre·r[t+1] + α_pre·e1[t]                    (reverse-time trace, 0 before the window)
        e[t]  = r[t] + α_post·e2[t]

    corr(tr_x, e1) over the window equals corr(x, r) over every step, so the causal and the
    non-causal term become one correlation with the kept im2col of x (no im2col of tr_x).
    ``m [W, B, *neuron]`` over the window, ``ps`` over all T.  Returns (e in the maps' layout,
    tr_Psi or None when α_post = 0, and with ``bias`` the per-step channel sums of e1
    ``[W, C]`` and the total channel sums of e2 ``[C]``, else None, None).  The neurons are
    independent: without bias, large maps are split among threads, each part one call of the
    compiled kernel where it is built (:mod:`.kernels`)."""
    e = np.empty_like(ps)
    tr_psi = np.empty_like(ps) if params.alpha_post != 0 else None
    cols = None if bias else step_columns(ps, e, *([tr_psi] if tr_psi is not None else []))
    mcols = None if cols is None else step_columns(ps[w0:], m)
    if cols is None or mcols is None:
        sums = ((np.zeros((m.shape[0], ps.shape[2]), dtype=ps.dtype),
                 np.zeros(ps.shape[2], dtype=ps.dtype)) if bias else None)
        _eligibility_loop(m, ps, e, tr_psi, w0, params, sums)
        return (e, tr_psi) + (sums if bias else (None, None))
    m_cols = mcols[1]
    k = kernels.get(ps.dtype)
    loop = _eligibility_loop if k is None else partial(kernels.eligibility, k)
    run_parts(lambda part: loop(m_cols[:, part], cols[0][:, part], cols[1][:, part],
                                cols[2][:, part] if tr_psi is not None else None, w0, params),
              parts(cols[0].shape[1], ps.shape[0]))
    return e, tr_psi, None, None


def _eligibility_loop(m, ps, e, tr_psi, w0: int, params: RuleParams, sums=None) -> None:
    """:func:`_eligibility_error` on one part of the neurons (views, written in place): the
    forward trace of Psi, then one reverse pass over t, each step's operands in cache.  ``sums``
    (e1 per step, e2 total; channel axis 1 of a step) are accumulated when given."""
    t_steps, lam = ps.shape[0], params.lambda_pre
    if tr_psi is not None:
        trace_sequence(ps, params.lambda_post, out=tr_psi)
    r = np.zeros_like(ps[0])
    tmp = np.empty_like(ps[0])
    axes = tuple(i for i in range(ps.ndim - 1) if i != 1)  # all but the channel axis of a step
    for t in range(t_steps - 1, -1, -1):
        np.multiply(lam, r, out=r)
        if t >= w0:
            np.multiply(m[t - w0], ps[t], out=tmp)  # e1[t]
            if sums is not None:
                sums[0][t - w0] = tmp.sum(axis=axes)
            np.multiply(params.alpha_pre, tmp, out=tmp)
            if lam == 0 or t == t_steps - 1:
                r[...] = tmp
            else:
                r += tmp
        if tr_psi is not None and t >= w0 and t >= 1:
            np.multiply(m[t - w0], tr_psi[t - 1], out=tmp)  # e2[t]
            if sums is not None:
                sums[1][...] += tmp.sum(axis=axes)
            np.multiply(params.alpha_post, tmp, out=tmp)
            np.add(r, tmp, out=e[t])
        else:
            e[t] = r


def _pad_window(a: np.ndarray, w0: int) -> np.ndarray:
    if w0 == 0:
        return a
    return np.concatenate([np.zeros((w0,) + a.shape[1:], dtype=a.dtype), a])


def _window_caches(caches: list, start: int) -> list:
    """Pool caches restricted to the folded rows ``start:`` (the learning window)."""
    out = []
    for kind, shape, kh, kw, idx in caches:
        n = shape[0] - start
        out.append((kind, (n,) + tuple(shape[1:]), kh, kw, None if idx is None else idx[start:]))
    return out


def gradients(net: Net, rule: str, params: RuleParams, weights: dict, x: np.ndarray,
              labels: np.ndarray, dtype=np.float32, trace: bool = False,
              smooth_forward: bool = False) -> tuple[dict, dict]:
    """Dispatch on the rule name (bptt | stllr | tess | readout); gradients of the trained
    parameters (a standardised block's raw W and gain, carried from the rule's dL/dW_eff).
    Standardises once: the same W_eff serves the forward, the backward and the carry."""
    rule = ALIASES.get(rule, rule)
    eff, caches = effective_weights(net, weights, dtype)
    if rule == "bptt":
        grads, info = _bptt(net, eff, x, labels, dtype, trace, smooth_forward)
    else:
        grads, info = _local(net, rule, params, eff, x, labels, dtype, trace, "rule")
    return raw_gradients(grads, caches), info
