"""The eligibility traces S-TLLR and TESS share (docs/math.md §3): their update every step and
the state they keep.

With measured operands (:data:`simulator.activity.OPERAND_COLUMNS`, the rule's own columns: its
traces have its own λ) the ops on a zero operand follow ``pe.zero``
(:meth:`~simulator.rules.program.WorkBuilder.sparse_ops`): the decay λ·tr[t−1] on a zero trace
(``<rule>_trace_nonzero``, ``<rule>_trace_psi_nonzero`` of the step before), the add of a zero Psi
(``psi_nonzero``) or of a zero analog pixel (``in_events``). The weight gradients that read the
traces are each rule's own (``stllr.py``, ``tess.py``).
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.program import Hold, Work, WorkBuilder


def previous(a: np.ndarray | None) -> np.ndarray | None:
    """``a`` [T] one step later: ``out[t] = a[t − 1]``, ``out[0] = 0`` (None stays None)."""
    if a is None:
        return None
    return np.concatenate([[0.0], a[:-1]])


def traces(rule: str, net: Net, act: ActivityProfile, alpha_post: float, zero: str = "none") -> list[Work]:
    """tr_x = λ_pre·tr_x + x per input element (every step); tr_Psi = λ_post·tr_Psi + Psi per
    neuron when alpha_post ≠ 0. One multiply per element, one add per non-zero input (dense with
    zeros executed, the module docstring with measured operands)."""
    works = []
    for b in net.blocks:
        a = act[b.name]
        tr = WorkBuilder(rule, b.name, "trace", net.T).term("trace tr_x = λ_pre·tr_x + x")
        decayed = previous(a.operand(f"{rule}_trace_nonzero"))
        tr.sparse_ops("trace", zero, mul=(b.N_in, decayed))
        if b.analog_input:
            tr.sparse_ops("trace", zero, add=(b.N_in, None if decayed is None else a.in_events))
        else:
            tr.ops("trace", add=a.in_events)
        tr.read("traces", "trace", b.N_in).write("traces", "trace", b.N_in)
        if alpha_post:
            tr.term("trace tr_Psi = λ_post·tr_Psi + Psi")
            tr.sparse_ops("trace", zero, mul=(b.N_pre, previous(a.operand(f"{rule}_trace_psi_nonzero"))),
                          add=(b.N_pre, a.operand("psi_nonzero")))
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
