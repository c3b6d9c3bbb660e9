"""The forward pass every rule runs (docs/math.md §1): synaptic integration, the LIF neuron and
its surrogate Psi, the block's pools, and the readout.

Counting conventions are stated in :mod:`simulator.rules.program`.
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.network import Block, Net
from tess_sim.simulator.rules.contractions import forward_nest
from tess_sim.simulator.rules.pools import has_maxpool, pool_ops
from tess_sim.simulator.rules.program import Work, WorkBuilder


def psi_ops(shape: str) -> dict[str, int]:
    """Ops per neuron to evaluate Psi(u) (docs/math.md §1)."""
    if shape == "fast_sigmoid":  # gamma / (slope·|u−θ| + 1)²
        return {"add": 2, "mul": 3, "cmp": 1, "div": 1}
    return {"add": 2, "mul": 2, "cmp": 2}  # gamma·max(0, 1 − |u−θ|/width)


def input_prec(block: Block) -> str:
    """Precision of a block's input elements: analog pixels or spikes."""
    return "input" if block.analog_input else "spike"


def forward(rule: str, net: Net, act: ActivityProfile, history: bool = False,
            inputs_from_history: bool = False) -> list[Work]:
    """Synaptic integration (fwd) and neuron update (neuron) of every block and the readout.

    With ``history`` (BPTT) the step's inputs, Psi and pre-pool spikes are also written to the
    history buffer; with ``inputs_from_history`` (BPTT's layer-major forward pass) each layer reads
    its input of every step from there (the history holds them for the backward pass anyway).
    """
    T = net.T
    every = np.ones(T)
    source = "history" if inputs_from_history else "spikes"
    works = []
    for b in net.blocks:
        a = act[b.name]
        fwd = WorkBuilder(rule, b.name, "fwd", T).term("forward synaptic ops")
        fwd.nest(forward_nest(b, every, source, input_prec(b)))
        if b.analog_input:
            fwd.ops("weight", mac=b.F).read(source, "input", b.N_in)
            syn = b.F
        else:
            fwd.ops("membrane", ac=a.syn_ops).read(source, "spike", a.in_events)
            syn = a.syn_ops
        fwd.read("weights", "weight", syn).read("membrane", "membrane", syn).write("membrane", "membrane", syn)
        if history:
            fwd.term("history: inputs x[t]").write("history", input_prec(b), b.N_in)
        works.append(fwd.build())

        neu = WorkBuilder(rule, b.name, "neuron", T)
        # leak beta·u, threshold H(u − theta), reset (one add per spike), bias
        neu.term("LIF update").ops("membrane", mul=b.N_pre, cmp=b.N_pre,
                                   add=a.out_spikes + (b.N_pre if b.bias else 0))
        psi = psi_ops(b.neuron.psi.shape)
        neu.term("surrogate Psi(u)").ops("membrane", mul=b.N_pre * psi.get("mul", 0),
                                         cmp=b.N_pre * psi.get("cmp", 0), add=b.N_pre * psi.get("add", 0),
                                         div=b.N_pre * psi.get("div", 0))
        neu.term("pool_l(o[t])").ops("spike", **pool_ops(b))
        neu.term("LIF update").read("membrane", "membrane", b.N_pre).write("membrane", "membrane", b.N_pre)
        neu.term("output spikes z[t]").write("spikes", "spike", a.post_events)
        if history:
            neu.term("history: Psi[t]").write("history", "gradient", b.N_pre)
            if has_maxpool(b):  # for max-pool routing
                neu.term("history: pre-pool spikes o[t]").write("history", "spike", b.N_pre)
        works.append(neu.build())

    ro, a = net.readout, act[net.readout.name]
    fwd = WorkBuilder(rule, ro.name, "fwd", T).nest(forward_nest(ro, every, source, "spike"))
    fwd.term("forward synaptic ops").ops("membrane", ac=a.syn_ops)
    fwd.term("readout bias b_r").ops("membrane", add=ro.N_pre if ro.bias else 0)
    fwd.term("forward synaptic ops").read(source, "spike", a.in_events)
    fwd.read("weights", "weight", a.syn_ops).read("membrane", "membrane", a.syn_ops)
    fwd.write("membrane", "membrane", a.syn_ops)
    if history:
        fwd.term("history: readout inputs h[t]").write("history", "spike", ro.N_in)
    works.append(fwd.build())
    return works
