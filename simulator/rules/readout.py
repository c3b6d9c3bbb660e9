"""The readout's learning every rule shares: softmax + CE gradient of its logits, and its weight
gradient corr(h, dL/dy) (docs/math.md §2, §4)."""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.program import Work, WorkBuilder


def softmax(builder: WorkBuilder, classes: int, when) -> WorkBuilder:
    """Softmax and the CE gradient (p − onehot) over the readout's classes, at the steps in
    ``when``: reads the logits y, writes dL/dy."""
    c = classes * np.asarray(when, dtype=float)
    return (builder.term("readout softmax + CE gradient").ops("gradient", exp=c, div=c, add=c)
            .read("membrane", "membrane", c).write("errors", "gradient", c))


def readout_wgrad(rule: str, net: Net, act: ActivityProfile, when, history: bool = False,
                  direction: str = "forward") -> Work:
    """corr(h[t], dL/dy[t]) of the readout: h is binary, so one AC per (input spike, class)."""
    ro, a = net.readout, act[net.readout.name]
    when = np.asarray(when, dtype=float)
    wg = WorkBuilder(rule, ro.name, "wgrad", net.T, direction)
    wg.term("readout corr(h, dL/dy)").ops("gradient", ac=a.syn_ops * when)
    wg.term("bias gradient").ops("gradient", add=(ro.N_pre if ro.bias else 0) * when)
    wg.term("readout corr(h, dL/dy)")
    wg.read("history" if history else "spikes", "spike", (ro.N_in if history else a.in_events) * when)
    wg.read("errors", "gradient", ro.N_pre * when)
    wg.term("gradient accumulator g").read("gradients", "gradient", ro.params * when)
    wg.write("gradients", "gradient", ro.params * when)
    return wg.build()
