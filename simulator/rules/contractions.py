"""The tensor contractions of the rule programs as loop nests (docs/dataflow.md): what a mapped
PE array tiles. Each builder returns a :class:`~simulator.rules.program.Contraction` naming the
(unit, precision, term) of every tensor and op whose conventional counts it stands for, so that a
mapped core replaces exactly those and nothing else.

Dimensions: a conv block is K (output channels) × C (input channels) × OY × OX (output rows,
columns) × FY × FX (kernel), its input indexed by the sliding windows OY+FY, OX+FX (stride of
the block); a linear block or the readout is K (outputs) × C (inputs).
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.network import Block
from tess_sim.simulator.rules.program import Contraction, Tensor, Work, WorkBuilder
from tess_sim.simulator.rules.update import accumulate


def dims(b: Block) -> tuple[tuple[str, int], ...]:
    """The loop dimensions of block b's synaptic contraction."""
    if b.kind == "conv":
        K, OY, OX = b.pre_shape
        return (("K", K), ("C", b.in_shape[0]), ("OY", OY), ("OX", OX), ("FY", b.kernel), ("FX", b.kernel))
    return (("K", b.N_pre), ("C", b.N_in))


def weight_axes(b: Block) -> tuple[str, ...]:
    return ("K", "C", "FY", "FX") if b.kind == "conv" else ("K", "C")


def input_axes(b: Block) -> tuple[str, ...]:
    """The input map's axes: sliding windows for a conv (padded extent, as Timeloop sees it)."""
    return ("C", "OY+FY", "OX+FX") if b.kind == "conv" else ("C",)


def output_axes(b: Block) -> tuple[str, ...]:
    return ("K", "OY", "OX") if b.kind == "conv" else ("K",)


def _nest(b: Block, tensors, ops, when) -> Contraction:
    return Contraction(dims(b), tuple(tensors), tuple(ops), np.asarray(when, dtype=float), b.stride)


def forward_nest(b: Block, when, input_unit: str, input_prec: str, term: str = "forward synaptic ops") -> Contraction:
    """u[K, OY, OX] += W[K, C, FY, FX] · x[C, OY+FY, OX+FX]: MACs on an analog input, else ACs on
    the spikes (sparse: a zero spike is what ``pe.zero`` gates or skips)."""
    analog = b.analog_input
    op = ("mac", "weight", 1.0, False, term) if analog else ("ac", "membrane", 1.0, True, term)
    return _nest(b, [Tensor("weights", "weight", weight_axes(b), "read", term),
                     Tensor(input_unit, input_prec, input_axes(b), "read", term, sparse=not analog),
                     Tensor("membrane", "membrane", output_axes(b), "update", term)], [op], when)


def backprop_nest(b: Block, when, term: str, sparse: bool = False) -> Contraction:
    """δx[C, OY+FY, OX+FX] = Σ Wᵀ · δ[K, OY, OX]: the error propagated to the block's input
    (a transposed convolution; accumulated from zero). ``sparse``: δ's zeros are measured (the
    rule's count of the op is then its non-zero count, :meth:`WorkBuilder.sparse_ops`)."""
    return _nest(b, [Tensor("weights", "weight", weight_axes(b), "read", term),
                     Tensor("errors", "gradient", output_axes(b), "read", term, sparse=sparse),
                     Tensor("errors", "gradient", input_axes(b), "write", term)],
                 [("mac", "gradient", 1.0, sparse, term)], when)


def correlation_nest(b: Block, when, pairs, out_unit: str, out_term: str) -> Contraction:
    """g[K, C, FY, FX] += Σ_{OY, OX} a[C, OY+FY, OX+FX] · δ[K, OY, OX] for each of ``pairs``:
    ((input unit, prec, term, sparse), (signal unit, prec, term, sparse), op kind) — a
    weight-gradient correlation (one product per pair and point), accumulated into ``out_unit``;
    the op is sparse when either operand is (input spikes; a signal whose zeros are measured)."""
    tensors, ops = [], []
    for (a_unit, a_prec, a_term, sparse), (d_unit, d_prec, d_term, d_sparse), kind in pairs:
        tensors.append(Tensor(a_unit, a_prec, input_axes(b), "read", a_term, sparse=sparse))
        tensors.append(Tensor(d_unit, d_prec, output_axes(b), "read", d_term, sparse=d_sparse))
        ops.append((kind, "gradient", 1.0, sparse or d_sparse, a_term))
    out_prec = "weight" if out_unit == "weights" else "gradient"
    tensors.append(Tensor(out_unit, out_prec, weight_axes(b), "update", out_term))
    return _nest(b, tensors, ops, when)


def linear_nest(K: int, C: int, when, tensors, op: tuple) -> Contraction:
    """A small dense contraction out[K] (or out[C]) of a weight-like matrix [K, C] and a vector
    (the LSG's projections)."""
    return Contraction((("K", K), ("C", C)), tuple(tensors), (op,), np.asarray(when, dtype=float))


def local_pairs(b: Block, alpha_post: float, input_unit: str, input_prec: str,
                measured: tuple[bool, bool] = (False, False)) -> list:
    """The (input, signal, op) pairs of S-TLLR's and TESS's weight gradient (docs/math.md §3):
    causal corr(tr_x, m·Psi) (MACs: the trace is analog) and, when alpha_post ≠ 0, non-causal
    corr(x, m·tr_Psi) (ACs on the input spikes, MACs on an analog input). ``measured``: whether
    the causal / non-causal term's zero operands are measured (its op is then sparse)."""
    causal, noncausal = "causal corr(tr_x, m·Psi)", "non-causal corr(x, m·tr_Psi)"
    pairs = [(("traces", "trace", causal, measured[0]), ("errors", "gradient", "learning signal m[t]", measured[0]),
              "mac")]
    if alpha_post:
        pairs.append(((input_unit, input_prec, noncausal, not b.analog_input or measured[1]),
                      ("traces", "trace", noncausal, measured[1]), "mac" if b.analog_input else "ac"))
    return pairs


def drain_local_gradient(wg: WorkBuilder, b: Block, when, params, input_prec: str,
                         measured: tuple[bool, bool] = (False, False)) -> Work:
    """The end of S-TLLR's and TESS's weight-gradient Work: the gradient drains under the rule's
    update policy (:func:`~simulator.rules.update.accumulate`) and the Work declares its fused
    correlation nest (:func:`local_pairs`, ``measured`` as there); the built Work."""
    out_unit, out_term = accumulate(wg, b.params, when, params.update)
    pairs = local_pairs(b, params.alpha_post, "spikes", input_prec, measured)
    return wg.nest(correlation_nest(b, when, pairs, out_unit, out_term)).build()
