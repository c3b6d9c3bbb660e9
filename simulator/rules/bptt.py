"""BPTT: backpropagation through time (docs/math.md §2) — its program and its state.

Forward: T steps of synaptic integration and neuron updates, writing every layer's inputs, Psi
and (for max-pooled blocks) pre-pool spikes to the history. Backward, steps in reverse: the CE
gradient of softmax(Σ_t y[t]) once, then per step the readout's back-projection and weight
gradient, and per block (last to first) the pool routing, δu[t] = δo[t]·Psi[t] + β·δu[t+1]
(2 mul + 1 add per neuron), the error propagated to the block's input (F MACs, not for the first
block) and the weight gradient corr(x[t], δu[t]) (ACs on the spikes, F MACs on analog input).

With measured operands (:data:`simulator.activity.OPERAND_COLUMNS`) the ops on a zero operand
follow ``pe.zero``: the multiply δo·Psi (``bptt_surrogate_ops``), the propagation Wᵀ·δu
(``bptt_prop_ops``), the correlation (``bptt_wgrad_ops``) and the bias gradient's adds
(``bptt_signal_nonzero``).
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.rules.contractions import backprop_nest, correlation_nest
from tess_sim.simulator.rules.forward import forward, input_prec
from tess_sim.simulator.rules.pools import has_maxpool, pool_backward_ops
from tess_sim.simulator.rules.program import Hold, WorkBuilder
from tess_sim.simulator.rules.readout import readout_wgrad, softmax
from tess_sim.simulator.rules.rule import Rule, fitted_memory
from tess_sim.simulator.rules.state import common_state
from tess_sim.simulator.rules.update import accumulate, update
from tess_sim.simulator.vocab import RULE_LABELS


class BPTT(Rule):
    name = "bptt"
    label = RULE_LABELS["bptt"]

    def works(self, act: ActivityProfile):
        net, T, r, policy = self.net, self.net.T, self.name, self.params.update
        works = forward(r, net, act, history=True, inputs_from_history=self.schedule == "layer_major")
        every = np.ones(T)
        first_back = np.zeros(T)
        first_back[T - 1] = 1.0  # the loss is on Σ_t y[t]: one softmax, at the start of the backward pass
        ro = net.readout
        loss = WorkBuilder(r, ro.name, "bwd", T, "backward")
        softmax(loss, net.classes, first_back)
        back = "readout back-projection W_rᵀ·dL/dy"
        loss.term(back).ops("gradient", mac=ro.N_in * ro.N_pre)
        loss.read("weights", "weight", ro.params)
        loss.read("errors", "gradient", ro.N_pre).write("errors", "gradient", ro.N_in)
        works.append(loss.nest(backprop_nest(ro, every, back)).build())
        works.append(readout_wgrad(r, net, act, every, history=True, direction="backward", policy=policy))
        zero = self.zero
        for b in reversed(net.blocks):
            a = act[b.name]
            bwd = WorkBuilder(r, b.name, "bwd", T, "backward")
            bwd.term("δo[t] = pool_lᵀ(δz[t])").ops("gradient", **pool_backward_ops(b))
            if has_maxpool(b):
                bwd.read("history", "spike", b.N_pre)
            # δo·Psi: a zero δo or Psi gates it; β·δu[t+1] (1 mul) and the add stay dense
            bwd.term("δu[t] = δo[t]·Psi[t] + β·δu[t+1]").ops("gradient", mul=b.N_pre, add=b.N_pre)
            bwd.sparse_ops("gradient", zero, mul=(b.N_pre, a.operand("bptt_surrogate_ops")))
            bwd.read("history", "gradient", b.N_pre)
            bwd.term("δo[t] = pool_lᵀ(δz[t])").read("errors", "gradient", b.N_post)
            bwd.term("δu[t] = δo[t]·Psi[t] + β·δu[t+1]").read("errors", "gradient", b.N_pre)
            bwd.write("errors", "gradient", b.N_pre)
            if b.index > 0:
                prop = "error propagation Wᵀ·δu"
                nonzero = a.operand("bptt_prop_ops")
                bwd.term(prop).sparse_ops("gradient", zero, mac=(b.F, nonzero))
                bwd.read("weights", "weight", b.params).write("errors", "gradient", b.N_in)
                bwd.nest(backprop_nest(b, every, prop, sparse=nonzero is not None))
            works.append(bwd.build())
            corr = "corr(x[t], δu[t])"
            wg = WorkBuilder(r, b.name, "wgrad", T, "backward").term(corr)
            nonzero = a.operand("bptt_wgrad_ops")
            if b.analog_input:
                wg.sparse_ops("gradient", zero, mac=(b.F, nonzero))
            else:
                wg.sparse_ops("gradient", zero, ac=(a.syn_ops, nonzero))
            if b.bias:
                wg.term("bias gradient").sparse_ops("gradient", zero, add=(b.N_pre, a.operand("bptt_signal_nonzero")))
            wg.term(corr).read("history", input_prec(b), b.N_in)
            wg.read("errors", "gradient", b.N_pre)
            out_unit, out_term = accumulate(wg, b.params, every, policy)
            measured = nonzero is not None
            pair = (("history", input_prec(b), corr, not b.analog_input or measured),
                    ("errors", "gradient", corr, measured), "mac" if b.analog_input else "ac")
            works.append(wg.nest(correlation_nest(b, every, [pair], out_unit, out_term)).build())
        return works + update(r, net, self.params.optimizer, policy, every)

    def state(self):
        net, T = self.net, self.net.T
        out = common_state(net, self.params.optimizer, self.params.update)
        out.append(Hold("errors", "-", "gradient", sum(b.N_pre for b in net.blocks), "δu[t+1] of every block"))
        out.append(Hold("errors", "-", "gradient", max(b.N_in for b in net.layers),
                        "error at a layer's input (the widest)"))
        for b in net.blocks:
            out.append(Hold("history", b.name, input_prec(b), T * b.N_in, "history: inputs x[t]"))
            out.append(Hold("history", b.name, "gradient", T * b.N_pre, "history: Psi[t]"))
            if has_maxpool(b):
                out.append(Hold("history", b.name, "spike", T * b.N_pre, "history: pre-pool spikes o[t]"))
        ro = net.readout
        out.append(Hold("history", ro.name, "spike", T * ro.N_in, "history: readout inputs h[t]"))
        return out

    def learning_steps(self) -> int:
        return self.net.T

    def paper_memory(self):
        return fitted_memory(self.net, self.net.T, "history", "paper memory: history")
