"""``tess-sim import …``: a network made elsewhere as a workload (``nir``: a NIR graph). The
group loads each subcommand's module when it is used (:mod:`.lazy`); kept light (click only)."""

from __future__ import annotations

import click

from tess_sim.commands.lazy import LazyGroup, Table

#: subcommand -> (its click command, the first paragraph of its help)
IMPORT: Table = {
    "nir": ("tess_sim.commands.import_nir:import_nir",
            "Turn the NIR graph MODEL (a .nir file from snnTorch, Norse, SpikingJelly, Lava, Rockpool, …) into "
            "the workload --out: its layers and neuron parameters (beta = 1 - dt/tau, theta = "
            "v_threshold·tau/(r·dt), reset to 0; docs/nir.md), and with --weights its weights as a W.npz. "
            "A node tess-sim cannot express is refused, naming it. For example:"),
}


@click.group(name="import", cls=LazyGroup, lazy=IMPORT)
def import_group():
    """Bring a network made elsewhere in as a workload: a NIR graph (nir)."""
