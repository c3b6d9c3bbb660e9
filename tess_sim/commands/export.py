"""``tess-sim export …``: a finished run in other tools' formats (``accelergy``: Accelergy /
Timeloop). The group loads each subcommand's module when it is used (:mod:`.lazy`); kept light
(click only)."""

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
}


@click.group(name="export", cls=LazyGroup, lazy=EXPORT)
def export():
    """A finished run in other tools' formats: Accelergy / Timeloop (accelergy)."""
