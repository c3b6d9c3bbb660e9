"""``tess-sim export …``: a workload or its results in another tool's format (``nir``: the
network and its weights as a NIR graph). The group loads each subcommand's module when it is
used (:mod:`.lazy`); kept light (click only)."""

from __future__ import annotations

import click

from tess_sim.commands.lazy import LazyGroup, Table

#: subcommand -> (its click command, the first paragraph of its help)
EXPORT: Table = {
    "nir": ("tess_sim.commands.export_nir:export_nir",
            "Write WORKLOAD's network and weights (--weights W.npz, else its seeded initialisation) as the NIR "
            "graph --out, for snnTorch, Norse, SpikingJelly, Lava, Rockpool, …: Conv2d / Affine / Linear + LIF "
            "(tau = dt/(1 - beta), r = tau/dt, v_threshold = theta, reset to 0; docs/nir.md), AvgPool2d, "
            "Flatten. What NIR 1.0 cannot express (max-pool, the subtractive reset) is refused, naming the "
            "layer. For example:"),
}


@click.group(name="export", cls=LazyGroup, lazy=EXPORT)
def export_group():
    """Take a workload elsewhere: its network and weights as a NIR graph (nir)."""
