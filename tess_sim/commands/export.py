"""``tess-sim export …``: a workload or a finished run in other tools' formats (``nir``: the
network and its weights as a NIR graph; ``accelergy``: a run's architecture and action counts for
Accelergy / Timeloop). The group loads each subcommand's module when it is used (:mod:`.lazy`);
kept light (click only)."""

from __future__ import annotations

import click

from tess_sim.commands.lazy import LazyGroup, Table

#: subcommand -> (its click command, the first paragraph of its help)
EXPORT: Table = {
    "accelergy": ("tess_sim.commands.export_accelergy:accelergy",
                  "Write the architecture description and the action counts of the finished run RUN_DIR in "
                  "Accelergy's v0.4 formats, one folder per rule (default RUN_DIR/accelergy); with --ert MODEL "
                  "also ERT.yaml, ERT_summary.yaml and each rule's energy_estimation.yaml priced by one of our cost "
                  "models. Reads only RUN_DIR's results.json and ledger.csv (docs/accelergy.md)."),
    "nir": ("tess_sim.commands.export_nir:export_nir",
            "Write WORKLOAD's network and weights (--weights W.npz, else its seeded initialisation) as the NIR "
            "graph --out, for snnTorch, Norse, SpikingJelly, Lava, Rockpool, …: Conv2d / Affine / Linear + LIF "
            "(tau = dt/(1 - beta), r = tau/dt, v_threshold = theta, reset to 0; docs/nir.md), AvgPool2d, "
            "Flatten. What NIR 1.0 cannot express (max-pool, the subtractive reset) is refused, naming the "
            "layer. For example:"),
}


@click.group(name="export", cls=LazyGroup, lazy=EXPORT)
def export():
    """Take a workload or a finished run elsewhere: its network and weights as a NIR graph (nir); a
    run's architecture and action counts in Accelergy / Timeloop's formats (accelergy)."""
