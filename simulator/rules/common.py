"""Program pieces every rule shares: the forward pass, eligibility traces, local weight-gradient
correlations, softmax, the optimizer step, and the state every rule keeps.

Counting conventions are stated in :mod:`simulator.rules.program`.
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.network import Block, Net
from tess_sim.simulator.rules.program import ADAM_OPS, SGD_OPS, Hold, Work, WorkBuilder


def psi_ops(shape: str) -> dict[str, int]:
    """Ops per neuron to evaluate Psi(u) (docs/math.md §1)."""
    if shape == "fast_sigmoid":  # gamma / (slope·|u−θ| + 1)²
        return {"add": 2, "mul": 3, "cmp": 1, "div": 1}
    return {"add": 2, "mul": 2, "cmp": 2}  # gamma·max(0, 1 − |u−θ|/width)


def pool_ops(block: Block) -> dict[str, float]:
    """Ops of the block's pools per step (dense)."""
    ops = {"cmp": 0.0, "add": 0.0, "mul": 0.0}
    c, h, w = block.pre_shape if len(block.pre_shape) == 3 else (block.N_pre, 1, 1)
    for pool in block.pools:
        k2 = pool.window(h, w)
        h, w = pool.out_hw(h, w)
        n_out = c * h * w
        if pool.kind == "max":
            ops["cmp"] += (k2 - 1) * n_out
        else:
            ops["add"] += (k2 - 1) * n_out
            ops["mul"] += n_out
    return ops


def pool_backward_ops(block: Block) -> dict[str, float]:
    """Ops to route a gradient back through the block's pools: max pools route (0 ops, the
    pre-pool spike map is read), average pools scale each output gradient once (1 mul each)."""
    mul = 0.0
    c, h, w = block.pre_shape if len(block.pre_shape) == 3 else (block.N_pre, 1, 1)
    for pool in block.pools:
        h, w = pool.out_hw(h, w)
        if pool.kind != "max":
            mul += c * h * w
    return {"mul": mul}


def has_maxpool(block: Block) -> bool:
    return any(p.kind == "max" for p in block.pools)


def input_prec(block: Block) -> str:
    """Precision of a block's input elements: analog pixels or spikes."""
    return "input" if block.analog_input else "spike"


def forward(rule: str, net: Net, act: ActivityProfile, history: bool = False) -> list[Work]:
    """Synaptic integration (fwd) and neuron update (neuron) of every block and the readout.

    With ``history`` (BPTT) the step's inputs, Psi and pre-pool spikes are also written to the
    history buffer.
    """
    T = net.T
    works = []
    for b in net.blocks:
        a = act[b.name]
        fwd = WorkBuilder(rule, b.name, "fwd", T)
        if b.analog_input:
            fwd.ops("weight", mac=b.F).read("spikes", "input", b.N_in)
            syn = b.F
        else:
            fwd.ops("membrane", ac=a.syn_ops).read("spikes", "spike", a.in_events)
            syn = a.syn_ops
        fwd.read("weights", "weight", syn).read("membrane", "membrane", syn).write("membrane", "membrane", syn)
        if history:
            fwd.write("history", input_prec(b), b.N_in)
        works.append(fwd.build())

        neu = WorkBuilder(rule, b.name, "neuron", T)
        psi = psi_ops(b.neuron.psi.shape)
        neu.ops("membrane", mul=b.N_pre * (1 + psi.get("mul", 0)), cmp=b.N_pre * (1 + psi.get("cmp", 0)),
                add=a.out_spikes + b.N_pre * (psi.get("add", 0) + (1 if b.bias else 0)),
                div=b.N_pre * psi.get("div", 0))
        neu.ops("spike", **pool_ops(b))
        neu.read("membrane", "membrane", b.N_pre).write("membrane", "membrane", b.N_pre)
        neu.write("spikes", "spike", a.post_events)
        if history:
            neu.write("history", "gradient", b.N_pre)  # Psi[t]
            if has_maxpool(b):
                neu.write("history", "spike", b.N_pre)  # pre-pool spikes, for max-pool routing
        works.append(neu.build())

    ro, a = net.readout, act[net.readout.name]
    fwd = WorkBuilder(rule, ro.name, "fwd", T)
    fwd.ops("membrane", ac=a.syn_ops, add=ro.N_pre if ro.bias else 0).read("spikes", "spike", a.in_events)
    fwd.read("weights", "weight", a.syn_ops).read("membrane", "membrane", a.syn_ops)
    fwd.write("membrane", "membrane", a.syn_ops)
    if history:
        fwd.write("history", "spike", ro.N_in)
    works.append(fwd.build())
    return works


def traces(rule: str, net: Net, act: ActivityProfile, alpha_post: float) -> list[Work]:
    """tr_x = λ_pre·tr_x + x per input element (every step); tr_Psi = λ_post·tr_Psi + Psi per
    neuron when alpha_post ≠ 0. One multiply per element, one add per non-zero input."""
    works = []
    for b in net.blocks:
        a = act[b.name]
        tr = WorkBuilder(rule, b.name, "trace", net.T)
        tr.ops("trace", mul=b.N_in, add=b.N_in if b.analog_input else a.in_events)
        tr.read("traces", "trace", b.N_in).write("traces", "trace", b.N_in)
        if alpha_post:
            tr.ops("trace", mul=b.N_pre, add=b.N_pre)
            tr.read("traces", "trace", b.N_pre).write("traces", "trace", b.N_pre)
        works.append(tr.build())
    return works


def softmax(builder: WorkBuilder, classes: int, when) -> WorkBuilder:
    """Softmax and the CE gradient (p − onehot) over the classes, at the steps in ``when``."""
    c = classes * np.asarray(when, dtype=float)
    return (builder.ops("gradient", exp=c, div=c, add=c)
            .read("membrane", "membrane", c).write("errors", "gradient", c))


def local_wgrad(rule: str, net: Net, act: ActivityProfile, alpha_post: float, mask: np.ndarray,
                modulated: set[str] = frozenset()) -> list[Work]:
    """Weight-gradient correlations of the local rules at the learning steps (docs/math.md §3).

    causal: corr(tr_x, m ⊙ Psi), dense F MACs (the trace is analog); non-causal (alpha_post ≠ 0):
    corr(x, m ⊙ tr_Psi[t−1]), driven by the input events (ACs, border-exact), or F MACs for an
    analog first layer. ``modulated`` names blocks whose m ⊙ Psi the learning-signal phase has
    already computed (S-TLLR's backward pass), so it is not counted twice. The gradient
    accumulator is read and written once per weight per learning step.
    """
    works = []
    for b in net.blocks:
        a = act[b.name]
        wg = WorkBuilder(rule, b.name, "wgrad", net.T)
        if b.name not in modulated:
            wg.ops("gradient", mul=b.N_pre * mask)
        wg.ops("gradient", mac=b.F * mask).read("traces", "trace", b.N_in * mask)
        wg.read("errors", "gradient", b.N_pre * mask)
        if alpha_post:
            wg.ops("gradient", mul=b.N_pre * mask).read("traces", "trace", b.N_pre * mask)
            if b.analog_input:
                wg.ops("gradient", mac=b.F * mask).read("spikes", "input", b.N_in * mask)
            else:
                wg.ops("gradient", ac=a.syn_ops * mask).read("spikes", "spike", a.in_events * mask)
        if b.bias:
            wg.ops("gradient", add=b.N_pre * mask)
        wg.read("gradients", "gradient", b.params * mask).write("gradients", "gradient", b.params * mask)
        works.append(wg.build())
    return works


def readout_wgrad(rule: str, net: Net, act: ActivityProfile, when, history: bool = False,
                  direction: str = "forward") -> Work:
    """corr(h[t], dL/dy[t]) of the readout: h is binary, so one AC per (input spike, class)."""
    ro, a = net.readout, act[net.readout.name]
    when = np.asarray(when, dtype=float)
    wg = WorkBuilder(rule, ro.name, "wgrad", net.T, direction)
    wg.ops("gradient", ac=a.syn_ops * when, add=(ro.N_pre if ro.bias else 0) * when)
    wg.read("history" if history else "spikes", "spike", (ro.N_in if history else a.in_events) * when)
    wg.read("errors", "gradient", ro.N_pre * when)
    wg.read("gradients", "gradient", ro.params * when).write("gradients", "gradient", ro.params * when)
    return wg.build()


def update(rule: str, net: Net, optimizer: str) -> list[Work]:
    """One optimizer step per mini-batch for every weighted layer."""
    works = []
    per_weight = ADAM_OPS if optimizer == "adam" else SGD_OPS
    for b in net.layers:
        up = WorkBuilder(rule, b.name, "update", net.T, "batch")
        up.ops("gradient", **{k: v * b.params for k, v in per_weight.items()})
        up.read("weights", "weight", b.params).write("weights", "weight", b.params)
        up.read("gradients", "gradient", b.params).write("gradients", "gradient", b.params)  # read, clear
        if optimizer == "adam":
            up.read("optimizer", "gradient", 2 * b.params).write("optimizer", "gradient", 2 * b.params)
        works.append(up.build())
    return works


def common_state(net: Net, optimizer: str) -> list[Hold]:
    """Weights, membranes (readout accumulators too), gradient accumulators, optimizer moments,
    and the spike buffers between layers (the input map and every block's output map of the
    current step, one element each)."""
    first = net.blocks[0]
    out = [Hold("spikes", "input", input_prec(first), net.N_input)]
    out += [Hold("spikes", b.name, "spike", b.N_post) for b in net.blocks]
    for b in net.layers:
        out.append(Hold("weights", b.name, "weight", b.params))
        out.append(Hold("membrane", b.name, "membrane", b.N_pre))
        out.append(Hold("gradients", b.name, "gradient", b.params))
        if optimizer == "adam":
            out.append(Hold("optimizer", b.name, "gradient", 2 * b.params))
    return out


def trace_state(net: Net, alpha_post: float) -> list[Hold]:
    """tr_x per input element of every block, tr_Psi per neuron when alpha_post ≠ 0 (docs/math.md §5)."""
    out = []
    for b in net.blocks:
        out.append(Hold("traces", b.name, "trace", b.N_in + (b.N_pre if alpha_post else 0)))
    return out


def paper_memory(net: Net, k: int, unit: str) -> list[Hold]:
    """The paper's memory: k × (input + Σ block outputs + the first block's output once more)
    elements at 4 bytes. A fit to all twelve published cells, not a derivation (README)."""
    out = [Hold(unit, "input", "fp32", k * net.N_input)]
    for i, b in enumerate(net.blocks):
        out.append(Hold(unit, b.name, "fp32", k * b.N_post * (2 if i == 0 else 1)))
    return out
