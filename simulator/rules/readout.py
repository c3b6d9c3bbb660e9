"""The readout's learning every rule shares: softmax + CE gradient of its logits, and its weight
gradient corr(h, dL/dy) (docs/math.md §2, §4)."""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.contractions import correlation_nest
from tess_sim.simulator.rules.program import Work, WorkBuilder
from tess_sim.simulator.rules.update import accumulate


def softmax(builder: WorkBuilder, classes: int, when) -> WorkBuilder:
    """Softmax and the CE gradient (p − onehot) over the readout's classes, at the steps in
    ``when``: reads the logits y, writes dL/dy."""
    c = classes * np.asarray(when, dtype=float)
    return (builder.term("readout softmax + CE gradient").ops("gradient", exp=c, div=c, add=c)
            .read("membrane", "membrane", c).write("errors", "gradient", c))


def readout_wgrad(rule: str, net: Net, act: ActivityProfile, when, history: bool = False,
                  direction: str = "forward", policy: str = "per_batch") -> Work:
    """corr(h[t], dL/dy[t]) of the readout: h is binary, so one AC per (input spike, class),
    accumulated under the update ``policy`` (:func:`~simulator.rules.update.accumulate`)."""
    ro, a = net.readout, act[net.readout.name]
    when = np.asarray(when, dtype=float)
    corr = "readout corr(h, dL/dy)"
    source = "history" if history else "spikes"
    wg = WorkBuilder(rule, ro.name, "wgrad", net.T, direction)
    wg.term(corr).ops("gradient", ac=a.syn_ops * when)
    wg.term("bias gradient").ops("gradient", add=(ro.N_pre if ro.bias else 0) * when)
    wg.term(corr)
    wg.read(source, "spike", (ro.N_in if history else a.in_events) * when)
    wg.read("errors", "gradient", ro.N_pre * when)
    out_unit, out_term = accumulate(wg, ro.params, when, policy)
    wg.nest(correlation_nest(ro, when, [((source, "spike", corr, True), ("errors", "gradient", corr, False), "ac")],
                             out_unit, out_term))
    return wg.build()
