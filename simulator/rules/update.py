"""When the weights change (docs/dataflow.md, update policies) and the optimizer step every rule
takes (counting convention in :mod:`simulator.rules.program`).

- ``per_batch`` (default): the weight-gradient correlations accumulate into a gradient
  accumulator g (one read-modify-write per weight and learning step); the optimizer runs once
  per mini-batch (its counts divided by the batch size per sample).
- ``per_sample``: the same accumulator, the optimizer once per sample.
- ``per_step`` (local rules only): no accumulator. Each learning step's correlation drains onto
  the weights as it is computed (w ← w − η·g: a read-modify-write of the weights instead of g;
  SGD's η folds into the learning signal's existing multiply, so SGD has no separate update);
  Adam runs its step on the drained g at every learning step, reading and writing its moments.
"""

from __future__ import annotations

from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.program import ADAM_OPS, SGD_OPS, Work, WorkBuilder
from tess_sim.simulator.rules.standardise import standardisation

ACCUMULATOR = "gradient accumulator g"
IMMEDIATE = "immediate update w ← w − η·g"


def accumulate(wb: WorkBuilder, params: int, when, policy: str) -> tuple[str, str]:
    """Write the accumulation of one learning step's weight gradient (``params`` elements at the
    steps in ``when``) under the policy; returns (buffer kind, term) the correlation drains into."""
    if policy == "per_step":
        wb.term(IMMEDIATE).read("weights", "weight", params * when).write("weights", "weight", params * when)
        return "weights", IMMEDIATE
    wb.term(ACCUMULATOR).read("gradients", "gradient", params * when).write("gradients", "gradient", params * when)
    return "gradients", ACCUMULATOR


def update(rule: str, net: Net, optimizer: str, policy: str = "per_batch", when=None) -> list[Work]:
    """The optimizer step of every weighted layer under ``policy`` (module docstring): per batch
    or sample, the ops, the weights and the gradient accumulator read and written (read, cleared),
    Adam's two moments read and written; per step (``when``: the learning steps), Adam's ops and
    moments at every learning step, nothing for SGD. A weight-standardised layer adds its gains to
    the trained parameters and its standardisation work (:mod:`simulator.rules.standardise`)."""
    works = []
    per_weight = ADAM_OPS if optimizer == "adam" else SGD_OPS
    label = "Adam update" if optimizer == "adam" else "SGD update"
    if policy == "per_step":
        if optimizer != "adam":
            return works
        for b in net.layers:
            up = WorkBuilder(rule, b.name, "update", net.T).term(f"{label} at every learning step")
            up.ops("gradient", **{k: v * b.params * when for k, v in per_weight.items()})
            up.read("optimizer", "gradient", 2 * b.params * when).write("optimizer", "gradient", 2 * b.params * when)
            works.append(up.build())
        return works
    direction = "batch" if policy == "per_batch" else "sample"
    for b in net.layers:
        n = b.params + b.gains  # a standardised layer's gains are trained too
        up = WorkBuilder(rule, b.name, "update", net.T, direction).term(label)
        up.ops("gradient", **{k: v * n for k, v in per_weight.items()})
        up.read("weights", "weight", b.params).write("weights", "weight", b.params)
        up.read("weights", "gradient", b.gains).write("weights", "gradient", b.gains)
        up.read("gradients", "gradient", n).write("gradients", "gradient", n)  # read, clear
        if optimizer == "adam":
            up.read("optimizer", "gradient", 2 * n).write("optimizer", "gradient", 2 * n)
        works.append(up.build())
    return works + standardisation(rule, net, direction)
