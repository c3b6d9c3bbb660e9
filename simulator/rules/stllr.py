"""S-TLLR: temporally local eligibility traces, learning signal back-propagated within each step
(docs/math.md §3–4) — its program and its state.

Every step: forward pass and trace updates. At each learning step (the window): softmax of the
per-step CE(y[t]); the readout's back-projection (in × C MACs) and weight gradient; per block,
last to second, the surrogate product m ⊙ Psi (1 mul per neuron) and its propagation to the
block's input (F MACs, transposed convolution) through the pools of the block below; then the
local correlations of docs/math.md §3 for every block (:meth:`STLLR.wgrad`). With measured
operands (:data:`simulator.activity.OPERAND_COLUMNS`) m ⊙ Psi and its propagation count their
non-zero operands under ``pe.zero`` (``stllr_signal_nonzero``, ``stllr_prop_ops``).
"""

from __future__ import annotations

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.network import Block
from tess_sim.simulator.rules.contractions import backprop_nest, drain_local_gradient
from tess_sim.simulator.rules.forward import forward, input_prec
from tess_sim.simulator.rules.pools import has_maxpool, pool_backward_ops
from tess_sim.simulator.rules.program import Hold, Work, WorkBuilder
from tess_sim.simulator.rules.readout import readout_wgrad, softmax
from tess_sim.simulator.rules.rule import LocalRule
from tess_sim.simulator.rules.state import common_state
from tess_sim.simulator.rules.traces import trace_state, traces
from tess_sim.simulator.rules.update import update
from tess_sim.simulator.vocab import RULE_LABELS


class STLLR(LocalRule):
    name = "stllr"
    label = RULE_LABELS["stllr"]

    def works(self, act):
        net, T, r, p = self.net, self.net.T, self.name, self.params
        m = self.mask()
        works = forward(r, net, act) + traces(r, net, act, p.alpha_post, self.zero)
        ro = net.readout
        sig = WorkBuilder(r, ro.name, "bwd", T)
        softmax(sig, net.classes, m)
        sig.term("readout back-projection W_rᵀ·dL/dy").ops("gradient", mac=ro.N_in * ro.N_pre * m)
        sig.read("weights", "weight", ro.params * m).write("errors", "gradient", ro.N_in * m)
        works.append(sig.nest(backprop_nest(ro, m, "readout back-projection W_rᵀ·dL/dy")).build())
        works.append(readout_wgrad(r, net, act, m, policy=p.update))
        for b in reversed(net.blocks):
            bwd = WorkBuilder(r, b.name, "bwd", T).term("m[t] = pool_lᵀ(δz[t])")
            bwd.ops("gradient", **{k: v * m for k, v in pool_backward_ops(b).items()})
            if has_maxpool(b):
                bwd.read("spikes", "spike", b.N_pre * m)
            bwd.read("errors", "gradient", b.N_post * m).write("errors", "gradient", b.N_pre * m)
            if b.index > 0:
                a = act[b.name]
                bwd.term("surrogate product m·Psi").sparse_ops(
                    "gradient", self.zero, mul=(b.N_pre * m, a.operand("stllr_signal_nonzero", m)))
                prop = "error propagation Wᵀ·(m·Psi)"
                nonzero = a.operand("stllr_prop_ops", m)
                bwd.term(prop).sparse_ops("gradient", self.zero, mac=(b.F * m, nonzero))
                bwd.read("weights", "weight", b.params * m).write("errors", "gradient", b.N_in * m)
                bwd.nest(backprop_nest(b, m, prop, sparse=nonzero is not None))
            works.append(bwd.build())
        works += [self.wgrad(b, act) for b in net.blocks]
        return works + update(r, net, p.optimizer, p.update, m)

    def wgrad(self, b: Block, act: ActivityProfile) -> Work:
        """The weight gradient of block b at the learning steps (docs/math.md §3): the causal
        term (its m ⊙ Psi too for the first block; the blocks above computed it in their
        backward phase), the non-causal term when alpha_post ≠ 0 (ACs on the input events, or
        F MACs on an analog first layer), the bias, and one read-modify-write of the gradient
        accumulator per weight. Ops on a zero operand follow ``pe.zero`` where measured
        (``stllr_signal_nonzero``, ``_causal_ops``, ``_post_nonzero``, ``_noncausal_ops``)."""
        m, a, zero, r = self.mask(), act[b.name], self.zero, self.name
        wg = WorkBuilder(r, b.name, "wgrad", self.net.T).term("causal corr(tr_x, m·Psi)")
        causal = a.operand(f"{r}_causal_ops", m)
        if b.index == 0:
            wg.sparse_ops("gradient", zero, mul=(b.N_pre * m, a.operand(f"{r}_signal_nonzero", m)))
        wg.sparse_ops("gradient", zero, mac=(b.F * m, causal)).read("traces", "trace", b.N_in * m)
        wg.term("learning signal m[t]").read("errors", "gradient", b.N_pre * m)
        noncausal = a.operand(f"{r}_noncausal_ops", m) if self.params.alpha_post else None
        if self.params.alpha_post:
            wg.term("non-causal corr(x, m·tr_Psi)")
            wg.sparse_ops("gradient", zero, mul=(b.N_pre * m, a.operand(f"{r}_post_nonzero", m)))
            wg.read("traces", "trace", b.N_pre * m)
            if b.analog_input:
                wg.sparse_ops("gradient", zero, mac=(b.F * m, noncausal)).read("spikes", "input", b.N_in * m)
            else:
                wg.sparse_ops("gradient", zero, ac=(a.syn_ops * m, noncausal)).read("spikes", "spike", a.in_events * m)
        if b.bias:
            wg.term("bias gradient").sparse_ops("gradient", zero, add=(b.N_pre * m, a.operand(f"{r}_signal_nonzero", m)))
        measured = (causal is not None, noncausal is not None)
        return drain_local_gradient(wg, b, m, self.params, input_prec(b), measured)

    def state(self):
        net = self.net
        out = common_state(net, self.params.optimizer, self.params.update) + trace_state(net, self.params.alpha_post)
        out.append(Hold("errors", "-", "gradient", max(b.N_pre + b.N_in for b in net.layers),
                        "errors of one layer (its neurons and its input)"))
        return out
