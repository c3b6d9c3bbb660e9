"""Measured operands of the learning phases: how many of each learning operand are non-zero, and
the exact op counts of each learning contraction with every zero-operand pair skipped.

Per spiking block and step, per sample (summed over the batch, divided by it), the columns of
:data:`simulator.activity.OPERAND_COLUMNS` for the rules asked for:

- ``psi_nonzero``: neurons with Psi[t] ≠ 0 (the forward pass; every rule);
- BPTT (:func:`~simulator.functional.rules.bptt_gradients`, ``trace=True``): ``bptt_signal_nonzero``
  (δu ≠ 0), ``bptt_surrogate_ops`` (δo ≠ 0 and Psi ≠ 0: the multiplies δo·Psi),
  ``bptt_prop_ops`` (Wᵀ·δu, blocks after the first) and ``bptt_wgrad_ops`` (corr(x, δu));
- S-TLLR / TESS (:func:`~simulator.functional.rules.local_gradients`): ``<rule>_trace_nonzero``
  (tr_x ≠ 0), ``<rule>_trace_psi_nonzero`` (tr_Psi ≠ 0), ``<rule>_signal_nonzero`` (m ≠ 0 and
  Psi ≠ 0: the non-zeros of m·Psi), ``<rule>_post_nonzero`` (m ≠ 0 and tr_Psi[t−1] ≠ 0),
  ``<rule>_causal_ops`` (corr(tr_x, m·Psi)), ``<rule>_noncausal_ops`` (corr(x, m·tr_Psi[t−1]))
  and S-TLLR's ``stllr_prop_ops`` (Wᵀ·(m·Psi), blocks after the first).

The op counts are the contractions themselves run on 0/1 indicators, reduced to what they sum
to: Σ over the weights of corr(1[a ≠ 0], 1[e ≠ 0]) is, per output position, (the non-zero inputs
in its receptive field) × (the non-zero signals at it) — the receptive-field count is the
convolution of Σ_c 1[a ≠ 0] with a ones kernel —; Σ over the inputs of Wᵀ·1[e ≠ 0] with an
all-ones W is Σ over non-zero e of its border-exact fan-in (padding is no input). A linear block
is the same with every input in every field.
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.functional import conv as C
from tess_sim.simulator.functional.activity import forward_counts
from tess_sim.simulator.functional.network import forward, samples_per_chunk
from tess_sim.simulator.functional.rules import ALIASES, RuleParams, gradients
from tess_sim.simulator.network import Block, Net

#: the rules whose operands :func:`measure_operands` measures
OPERAND_RULES = ("bptt", "stllr", "tess")


def _per_step(nz: np.ndarray) -> np.ndarray:
    """[T, B, ...] indicator -> [T] count per sample."""
    t, b = nz.shape[:2]
    return nz.reshape(t, -1).sum(axis=1, dtype=np.float64) / b


def _field_counts(block: Block, a: np.ndarray) -> np.ndarray:
    """Non-zero inputs in each neuron's receptive field: ``a [T, B, *in]`` indicator ->
    conv ``[T, B, OY, OX]`` (every output channel has the same field), linear ``[T, B, 1]``."""
    t, b = a.shape[:2]
    if block.kind != "conv":
        return a.reshape(t, b, -1).sum(axis=2, dtype=np.float64)[..., None]
    per_pos = a.sum(axis=2, dtype=np.float64).reshape(t * b, 1, *block.in_shape[1:])
    ones = np.ones((1, 1, block.kernel, block.kernel))
    got = C.conv2d(per_pos, ones, block.stride, block.padding)
    return got.reshape(t, b, *block.pre_shape[1:])


def pair_ops(block: Block, a: np.ndarray, e: np.ndarray) -> np.ndarray:
    """[T] per sample: pairs (input, neuron) of the block's correlation corr(a, e) with
    a ≠ 0 and e ≠ 0 (``a [T, B, *in]``, ``e [T, B, *neuron]``)."""
    t, b = e.shape[:2]
    field = _field_counts(block, a != 0)
    if block.kind == "conv":
        signals = (e != 0).sum(axis=2, dtype=np.float64)  # [T, B, OY, OX]
    else:
        signals = (e != 0).reshape(t, b, -1).sum(axis=2, dtype=np.float64)[..., None]
    return (field * signals).reshape(t, -1).sum(axis=1) / b


def fanin_ops(block: Block, e: np.ndarray) -> np.ndarray:
    """[T] per sample: Σ over neurons with e ≠ 0 of their border-exact fan-in (the MACs of the
    transposed contraction Wᵀ·e with zero e skipped)."""
    t, b = e.shape[:2]
    ones = np.ones((1, 1) + tuple(block.in_shape))
    fan = _field_counts(block, ones)[0, 0]  # [OY, OX] inputs in each field (linear: [1])
    if block.kind == "conv":
        signals = (e != 0).sum(axis=2, dtype=np.float64)
    else:
        signals = (e != 0).reshape(t, b, -1).sum(axis=2, dtype=np.float64)[..., None]
    return (signals * fan).reshape(t, -1).sum(axis=1) / b


def _previous(a: np.ndarray) -> np.ndarray:
    """``a`` one step later along axis 0 (zeros at t = 0)."""
    return np.concatenate([np.zeros_like(a[:1]), a[:-1]])


def measure_operands(net: Net, weights: dict, x: np.ndarray, labels: np.ndarray,
                     params: dict[str, RuleParams], rules=OPERAND_RULES, dtype=np.float32) -> dict:
    """Per block name, the operand columns (module docstring) of ``rules`` for inputs
    ``x [T, B, *input_shape]`` with ``labels [B]``; ``params``: rule name -> its RuleParams (a
    rule missing takes the defaults), beside the forward counts of
    :func:`~simulator.functional.activity.measure_activity` (the same forward pass serves both).
    Each a float64 array ``[T]``, per sample. The samples run in chunks whose forward records fit :data:`~simulator.functional.network.CHUNK_BYTES` (the
    gradients keep a few records more; the per-sample averages are combined)."""
    rules = [ALIASES.get(r, r) for r in rules]
    n = x.shape[1]
    step = max(1, samples_per_chunk(net, x.shape[0]) // 2)
    if n > step:
        parts = [(min(step, n - i), measure_operands(net, weights, x[:, i:i + step], labels[i:i + step],
                                                     params, rules, dtype)) for i in range(0, n, step)]
        return {name: {k: sum(m * got[name][k] for m, got in parts) / n for k in parts[0][1][name]}
                for name in parts[0][1]}
    labels = np.asarray(labels)
    records, _ = forward(net, weights, x, dtype)
    out = forward_counts(net, records)  # the forward pass's counts too: one forward serves both
    for b, rec in zip(net.blocks, records):
        out[b.name]["psi_nonzero"] = _per_step(rec.psi != 0)
    for rule in rules:
        p = params.get(rule, RuleParams())
        _, info = gradients(net, rule, p, weights, x, labels, dtype, trace=True)
        for b, rec in zip(net.blocks, records):
            got = out[b.name]
            psi = rec.psi != 0
            if rule == "bptt":
                delta = info[b.name + ".delta"]
                got["bptt_signal_nonzero"] = _per_step(delta != 0)
                got["bptt_surrogate_ops"] = _per_step((info[b.name + ".m"] != 0) & psi)
                if b.index > 0:
                    got["bptt_prop_ops"] = fanin_ops(b, delta)
                got["bptt_wgrad_ops"] = pair_ops(b, rec.x, delta)
                continue
            m = info[b.name + ".m"] != 0
            tr_x, tr_psi = info[b.name + ".tr_x"], info[b.name + ".tr_psi"] != 0
            signal = m & psi
            post = m & _previous(tr_psi)
            got[f"{rule}_trace_nonzero"] = _per_step(tr_x != 0)
            got[f"{rule}_trace_psi_nonzero"] = _per_step(tr_psi)
            got[f"{rule}_signal_nonzero"] = _per_step(signal)
            got[f"{rule}_post_nonzero"] = _per_step(post)
            got[f"{rule}_causal_ops"] = pair_ops(b, tr_x, signal)
            got[f"{rule}_noncausal_ops"] = pair_ops(b, rec.x, post)
            if rule == "stllr" and b.index > 0:
                got["stllr_prop_ops"] = fanin_ops(b, signal)
    return out
