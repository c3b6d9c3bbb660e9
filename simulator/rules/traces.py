"""The eligibility traces S-TLLR and TESS share (docs/math.md §3): their update every step and
the state they keep."""

from __future__ import annotations

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.program import Hold, Work, WorkBuilder


def traces(rule: str, net: Net, act: ActivityProfile, alpha_post: float) -> list[Work]:
    """tr_x = λ_pre·tr_x + x per input element (every step); tr_Psi = λ_post·tr_Psi + Psi per
    neuron when alpha_post ≠ 0. One multiply per element, one add per non-zero input."""
    works = []
    for b in net.blocks:
        a = act[b.name]
        tr = WorkBuilder(rule, b.name, "trace", net.T).term("trace tr_x = λ_pre·tr_x + x")
        tr.ops("trace", mul=b.N_in, add=b.N_in if b.analog_input else a.in_events)
        tr.read("traces", "trace", b.N_in).write("traces", "trace", b.N_in)
        if alpha_post:
            tr.term("trace tr_Psi = λ_post·tr_Psi + Psi").ops("trace", mul=b.N_pre, add=b.N_pre)
            tr.read("traces", "trace", b.N_pre).write("traces", "trace", b.N_pre)
        works.append(tr.build())
    return works


def trace_state(net: Net, alpha_post: float) -> list[Hold]:
    """tr_x per input element of every block, tr_Psi per neuron when alpha_post ≠ 0 (docs/math.md §5)."""
    out = []
    for b in net.blocks:
        out.append(Hold("traces", b.name, "trace", b.N_in, "tr_x, one per input element"))
        if alpha_post:
            out.append(Hold("traces", b.name, "trace", b.N_pre, "tr_Psi, one per neuron"))
    return out
