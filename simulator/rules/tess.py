"""TESS: temporally and spatially local learning (docs/math.md §3–4) — its program and its state.

Every step: forward pass and trace updates. At each learning step, per block, the learning-signal
generator (LSG): average-pool the block output z to s_l×s_l (N_post − D adds, D muls), C × D_l
logits against the fixed B_l, softmax, C × D_l back-projection, unpooling (D muls when pooled,
plus the block's own pool routing), giving m per neuron; then the local correlations of docs/math.md §3.
The readout learns from its own per-step CE. B_l is read at 1 bit per entry when ``lsg_matrix:
stored``, or regenerated on the fly (no storage, no reads) when ``generated``.

For a linear block the latent is the block output itself (D_l = N_post, no latent pooling).
"""

from __future__ import annotations

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.network import Block, Net
from tess_sim.simulator.rules.contractions import drain_local_gradient, linear_nest
from tess_sim.simulator.rules.forward import forward, input_prec
from tess_sim.simulator.rules.pools import has_maxpool, pool_backward_ops
from tess_sim.simulator.rules.program import Hold, Tensor, Work, WorkBuilder
from tess_sim.simulator.rules.readout import readout_wgrad, softmax
from tess_sim.simulator.rules.rule import LocalRule
from tess_sim.simulator.rules.state import common_state
from tess_sim.simulator.rules.traces import trace_state, traces
from tess_sim.simulator.rules.update import update
from tess_sim.simulator.vocab import RULE_LABELS
from tess_sim.simulator.workload import TESSParams


class TESS(LocalRule):
    name = "tess"
    label = RULE_LABELS["tess"]

    @classmethod
    def check(cls, net: Net, params: TESSParams, where: str) -> None:
        """``lsg_pool``: one s_l per spiking block, each dividing its conv block's output."""
        if not params.lsg_pool:  # None or empty: global pooling, s_l = 1
            return
        if len(params.lsg_pool) != len(net.blocks):
            raise UserError(where, "rules.tess.lsg_pool", f"has {len(params.lsg_pool)} entries but the "
                            f"network has {len(net.blocks)} spiking blocks")
        for b, s in zip(net.blocks, params.lsg_pool):
            if b.kind == "conv" and (s < 1 or b.post_shape[1] % s or b.post_shape[2] % s):
                raise UserError(where, f"rules.tess.lsg_pool[{b.index}]", f"block {b.name} outputs "
                                f"{b.post_shape[1]}×{b.post_shape[2]}, which does not divide into {s}×{s}")

    def lsg_size(self, b: Block) -> int:
        """s_l of a conv block (1 when the workload gives no lsg_pool: global pooling)."""
        pools = self.params.lsg_pool
        return pools[b.index] if pools else 1

    def latent(self, b: Block) -> int:
        """D_l, the LSG latent size of block b."""
        if b.kind != "conv":
            return b.N_post
        return b.post_shape[0] * self.lsg_size(b) ** 2

    def works(self, act):
        net, T, r, p = self.net, self.net.T, self.name, self.params
        m = self.mask()
        works = forward(r, net, act) + traces(r, net, act, p.alpha_post, self.zero)
        works += [self.lsg(b) for b in net.blocks]
        sig = WorkBuilder(r, net.readout.name, "lsg", T)
        works.append(softmax(sig, net.classes, m).build())
        works.append(readout_wgrad(r, net, act, m, policy=p.update))
        works += [self.wgrad(b, act) for b in net.blocks]
        return works + update(r, net, p.optimizer, p.update, m)

    def lsg(self, b: Block) -> Work:
        """The learning-signal generator of block b at the learning steps (docs/math.md §4):
        the latent a = avgpool(z) (N_post − D adds, D muls, when pooled), the C local logits
        p = B·a and the back-projection of softmax(p) − onehot (C·D MACs each, and B_l read for
        each when stored), the unpooling (D muls when pooled) and the block's own pool routing,
        giving m per neuron."""
        m, C, D = self.mask(), self.net.classes, self.latent(b)
        stored = self.params.lsg_matrix == "stored"
        lsg = WorkBuilder(self.name, b.name, "lsg", self.net.T)
        lsg.term("lsg latent a = avgpool(z)").read("spikes", "spike", b.N_post * m)
        if D < b.N_post:
            lsg.ops("gradient", add=(b.N_post - D) * m, mul=D * m)
            lsg.term("lsg unpool avgpoolᵀ").ops("gradient", mul=D * m)
        proj, back = "lsg projection B·a", "lsg back-projection (softmax(p) − onehot)·B"
        lsg.term(proj).ops("gradient", mac=C * D * m)
        lsg.term(back).ops("gradient", mac=C * D * m)
        if stored:
            lsg.term(proj).read("lsg", "lsg", C * D * m)
            lsg.term(back).read("lsg", "lsg", C * D * m)
            for term, vec, out in ((proj, "C", "K"), (back, "K", "C")):  # the latent a[D], the logits p[C]
                lsg.nest(linear_nest(C, D, m, [Tensor("lsg", "lsg", ("K", "C"), "read", term),
                                               Tensor("errors", "gradient", (vec,), "read", term),
                                               Tensor("errors", "gradient", (out,), "write", term)],
                                     ("mac", "gradient", 1.0, False, term)))
        lsg.term("lsg softmax + CE gradient").ops("gradient", exp=C * m, div=C * m, add=C * m)
        lsg.term("m[t] = pool_lᵀ(lsg error)")
        lsg.ops("gradient", **{k: v * m for k, v in pool_backward_ops(b).items()})
        if has_maxpool(b):
            lsg.read("spikes", "spike", b.N_pre * m)
        lsg.term("learning signal m[t]").write("errors", "gradient", b.N_pre * m)
        return lsg.build()

    def wgrad(self, b: Block, act: ActivityProfile) -> Work:
        """The weight gradient of block b at the learning steps (docs/math.md §3): the causal
        term corr(tr_x, m ⊙ Psi) (N_pre muls, F MACs: the trace is analog), the non-causal term
        corr(x, m ⊙ tr_Psi[t−1]) when alpha_post ≠ 0 (N_pre muls, ACs on the input events,
        border-exact, or F MACs on an analog first layer), the bias, and one read-modify-write
        of the gradient accumulator per weight. Ops on a zero operand follow ``pe.zero`` where
        measured (``tess_signal_nonzero``, ``_causal_ops``, ``_post_nonzero``, ``_noncausal_ops``);
        the LSG's latent, projections and softmax stay dense."""
        m, a, zero, r = self.mask(), act[b.name], self.zero, self.name
        wg = WorkBuilder(r, b.name, "wgrad", self.net.T).term("causal corr(tr_x, m·Psi)")
        causal = a.operand(f"{r}_causal_ops", m)
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
        net, p = self.net, self.params
        steps = net.T if self.schedule == "layer_major" else 1
        out = common_state(net, p.optimizer, p.update, spike_steps=steps) + trace_state(net, p.alpha_post)
        out.append(Hold("errors", "-", "gradient", max(b.N_pre for b in net.blocks),
                        "learning signal m[t] (the widest block)"))
        out.append(Hold("errors", "-", "gradient", net.classes, "readout dL/dy"))
        if p.lsg_matrix == "stored":
            out += [Hold("lsg", b.name, "lsg", net.classes * self.latent(b), "B_l, 1 bit an entry")
                    for b in net.blocks]
        return out

    def paper_macs(self):
        """Our stated TESS count: per learning step, C·D_l per block for the LSG projection and
        as many for its back-projection, and in_features × C for the readout's weight gradient."""
        n, C = self.learning_steps(), self.net.classes
        rows = []
        for b in self.net.blocks:
            rows.append((b.name, "lsg", "paper #MAC: lsg projection B·a", float(n * C * self.latent(b))))
            rows.append((b.name, "lsg", "paper #MAC: lsg back-projection", float(n * C * self.latent(b))))
        ro = self.net.readout
        rows.append((ro.name, "wgrad", "paper #MAC: readout weight gradient", float(n * ro.N_in * C)))
        return rows
