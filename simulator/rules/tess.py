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

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.network import Block, Net
from tess_sim.simulator.rules import common
from tess_sim.simulator.vocab import RULE_LABELS
from tess_sim.simulator.rules.program import Hold, WorkBuilder
from tess_sim.simulator.rules.rule import LocalRule

#: The paper's LSG pool sizes for VGG-9 (docs/math.md §4).
VGG9_LSG_POOL = (4, 2, 2, 2, 2, 2, 2, 1)


class TESS(LocalRule):
    name = "tess"
    label = RULE_LABELS["tess"]

    @classmethod
    def check(cls, net: Net, params, where: str) -> None:
        """``lsg_pool``: one s_l per spiking block, each dividing its conv block's output."""
        if params.lsg_pool is None:
            return
        if len(params.lsg_pool) != len(net.blocks):
            raise UserError(where, "rules.tess.lsg_pool", f"has {len(params.lsg_pool)} entries but the "
                            f"network has {len(net.blocks)} spiking blocks")
        for b, s in zip(net.blocks, params.lsg_pool):
            if b.kind == "conv" and (b.post_shape[1] % s or b.post_shape[2] % s):
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
        C = net.classes
        works = common.forward(r, net, act) + common.traces(r, net, act, p.alpha_post)
        for b in net.blocks:
            D = self.latent(b)
            lsg = WorkBuilder(r, b.name, "lsg", T)
            lsg.read("spikes", "spike", b.N_post * m)
            if D < b.N_post:
                lsg.ops("gradient", add=(b.N_post - D) * m, mul=D * m)  # latent average pool
                lsg.ops("gradient", mul=D * m)  # its transpose
            lsg.ops("gradient", mac=2 * C * D * m)  # logits and back-projection
            if p.lsg_matrix == "stored":
                lsg.read("lsg", "lsg", 2 * C * D * m)
            lsg.ops("gradient", exp=C * m, div=C * m, add=C * m)
            lsg.ops("gradient", **{k: v * m for k, v in common.pool_backward_ops(b).items()})
            if common.has_maxpool(b):
                lsg.read("spikes", "spike", b.N_pre * m)
            lsg.write("errors", "gradient", b.N_pre * m)
            works.append(lsg.build())
        ro = net.readout
        sig = WorkBuilder(r, ro.name, "lsg", T)
        works.append(common.softmax(sig, C, m).build())
        works.append(common.readout_wgrad(r, net, act, m))
        works += common.local_wgrad(r, net, act, p.alpha_post, m)
        return works + common.update(r, net, p.optimizer)

    def state(self):
        net, p = self.net, self.params
        out = common.common_state(net, p.optimizer) + common.trace_state(net, p.alpha_post)
        out.append(Hold("errors", "-", "gradient", max(b.N_pre for b in net.blocks) + net.classes))
        if p.lsg_matrix == "stored":
            out += [Hold("lsg", b.name, "lsg", net.classes * self.latent(b)) for b in net.blocks]
        return out

    def paper_macs(self):
        """Our stated TESS count: per learning step, 2·C·D_l per block (LSG projection and
        back-projection) and in_features × C for the readout's weight gradient."""
        n, C = self.learning_steps(), self.net.classes
        rows = [(b.name, "lsg", float(n * 2 * C * self.latent(b))) for b in self.net.blocks]
        ro = self.net.readout
        rows.append((ro.name, "wgrad", float(n * ro.N_in * C)))
        return rows
