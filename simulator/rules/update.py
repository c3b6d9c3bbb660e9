"""The optimizer step every rule takes once per mini-batch (counting convention in
:mod:`simulator.rules.program`)."""

from __future__ import annotations

from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.program import ADAM_OPS, SGD_OPS, Work, WorkBuilder


def update(rule: str, net: Net, optimizer: str) -> list[Work]:
    """One optimizer step per mini-batch for every weighted layer: ops, the weights and the
    gradient accumulator read and written (read, cleared), Adam's two moments read and written."""
    works = []
    per_weight = ADAM_OPS if optimizer == "adam" else SGD_OPS
    for b in net.layers:
        up = WorkBuilder(rule, b.name, "update", net.T, "batch")
        up.term("Adam update" if optimizer == "adam" else "SGD update")
        up.ops("gradient", **{k: v * b.params for k, v in per_weight.items()})
        up.read("weights", "weight", b.params).write("weights", "weight", b.params)
        up.read("gradients", "gradient", b.params).write("gradients", "gradient", b.params)  # read, clear
        if optimizer == "adam":
            up.read("optimizer", "gradient", 2 * b.params).write("optimizer", "gradient", 2 * b.params)
        works.append(up.build())
    return works
