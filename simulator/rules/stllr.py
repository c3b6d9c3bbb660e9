"""S-TLLR: temporally local eligibility traces, learning signal back-propagated within each step
(docs/math.md §3–4) — its program and its state.

Every step: forward pass and trace updates. At each learning step (the window): softmax of the
per-step CE(y[t]); the readout's back-projection (in × C MACs) and weight gradient; per block,
last to second, the surrogate product m ⊙ Psi (1 mul per neuron) and its propagation to the
block's input (F MACs, transposed convolution) through the pools of the block below; then the
local correlations of docs/math.md §3 for every block (see :func:`common.local_wgrad`).
"""

from __future__ import annotations

from tess_sim.simulator.rules import common
from tess_sim.simulator.vocab import RULE_LABELS
from tess_sim.simulator.rules.program import Hold, WorkBuilder
from tess_sim.simulator.rules.rule import LocalRule


class STLLR(LocalRule):
    name = "stllr"
    label = RULE_LABELS["stllr"]

    def works(self, act):
        net, T, r, p = self.net, self.net.T, self.name, self.params
        m = self.mask()
        works = common.forward(r, net, act) + common.traces(r, net, act, p.alpha_post)
        ro = net.readout
        sig = WorkBuilder(r, ro.name, "bwd", T)
        common.softmax(sig, net.classes, m)
        sig.ops("gradient", mac=ro.N_in * ro.N_pre * m).read("weights", "weight", ro.params * m)
        sig.write("errors", "gradient", ro.N_in * m)
        works.append(sig.build())
        works.append(common.readout_wgrad(r, net, act, m))
        for b in reversed(net.blocks):
            bwd = WorkBuilder(r, b.name, "bwd", T)
            bwd.ops("gradient", **{k: v * m for k, v in common.pool_backward_ops(b).items()})
            if common.has_maxpool(b):
                bwd.read("spikes", "spike", b.N_pre * m)
            bwd.read("errors", "gradient", b.N_post * m).write("errors", "gradient", b.N_pre * m)
            if b.index > 0:
                bwd.ops("gradient", mul=b.N_pre * m, mac=b.F * m).read("weights", "weight", b.params * m)
                bwd.write("errors", "gradient", b.N_in * m)
            works.append(bwd.build())
        modulated = {b.name for b in net.blocks[1:]}
        works += common.local_wgrad(r, net, act, p.alpha_post, m, modulated)
        return works + common.update(r, net, p.optimizer)

    def state(self):
        net = self.net
        out = common.common_state(net, self.params.optimizer) + common.trace_state(net, self.params.alpha_post)
        out.append(Hold("errors", "-", "gradient", max(b.N_pre + b.N_in for b in net.layers)))
        return out
