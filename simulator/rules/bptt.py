"""BPTT: backpropagation through time (docs/math.md §2) — its program and its state.

Forward: T steps of synaptic integration and neuron updates, writing every layer's inputs, Psi
and (for max-pooled blocks) pre-pool spikes to the history. Backward, steps in reverse: the CE
gradient of softmax(Σ_t y[t]) once, then per step the readout's back-projection and weight
gradient, and per block (last to first) the pool routing, δu[t] = δo[t]·Psi[t] + β·δu[t+1]
(2 mul + 1 add per neuron), the error propagated to the block's input (F MACs, not for the first
block) and the weight gradient corr(x[t], δu[t]) (ACs on the spikes, F MACs on analog input).
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.rules import common
from tess_sim.simulator.vocab import RULE_LABELS
from tess_sim.simulator.rules.program import Hold, WorkBuilder
from tess_sim.simulator.rules.rule import Rule


class BPTT(Rule):
    name = "bptt"
    label = RULE_LABELS["bptt"]

    def works(self, act: ActivityProfile):
        net, T, r = self.net, self.net.T, self.name
        works = common.forward(r, net, act, history=True)
        every = np.ones(T)
        first_back = np.zeros(T)
        first_back[T - 1] = 1.0  # the loss is on Σ_t y[t]: one softmax, at the start of the backward pass
        ro = net.readout
        loss = WorkBuilder(r, ro.name, "bwd", T, "backward")
        common.softmax(loss, net.classes, first_back)
        loss.ops("gradient", mac=ro.N_in * ro.N_pre).read("weights", "weight", ro.params)
        loss.read("errors", "gradient", ro.N_pre).write("errors", "gradient", ro.N_in)
        works.append(loss.build())
        works.append(common.readout_wgrad(r, net, act, every, history=True, direction="backward"))
        for b in reversed(net.blocks):
            a = act[b.name]
            bwd = WorkBuilder(r, b.name, "bwd", T, "backward")
            bwd.ops("gradient", **common.pool_backward_ops(b))
            if common.has_maxpool(b):
                bwd.read("history", "spike", b.N_pre)
            bwd.ops("gradient", mul=2 * b.N_pre, add=b.N_pre).read("history", "gradient", b.N_pre)
            bwd.read("errors", "gradient", b.N_post + b.N_pre).write("errors", "gradient", b.N_pre)
            if b.index > 0:
                bwd.ops("gradient", mac=b.F).read("weights", "weight", b.params)
                bwd.write("errors", "gradient", b.N_in)
            works.append(bwd.build())
            wg = WorkBuilder(r, b.name, "wgrad", T, "backward")
            if b.analog_input:
                wg.ops("gradient", mac=b.F)
            else:
                wg.ops("gradient", ac=a.syn_ops)
            if b.bias:
                wg.ops("gradient", add=b.N_pre)
            wg.read("history", common.input_prec(b), b.N_in).read("errors", "gradient", b.N_pre)
            wg.read("gradients", "gradient", b.params).write("gradients", "gradient", b.params)
            works.append(wg.build())
        return works + common.update(r, net, self.params.optimizer)

    def state(self):
        net, T = self.net, self.net.T
        out = common.common_state(net, self.params.optimizer)
        out.append(Hold("errors", "-", "gradient", sum(b.N_pre for b in net.blocks)
                        + max(b.N_in for b in net.layers)))
        for b in net.blocks:
            out.append(Hold("history", b.name, common.input_prec(b), T * b.N_in))
            out.append(Hold("history", b.name, "gradient", T * b.N_pre))
            if common.has_maxpool(b):
                out.append(Hold("history", b.name, "spike", T * b.N_pre))
        out.append(Hold("history", net.readout.name, "spike", T * net.readout.N_in))
        return out

    def learning_steps(self) -> int:
        return self.net.T

    def paper_memory(self):
        return common.paper_memory(self.net, self.net.T, "history")
