"""``tess-sim validate``: check a workload without simulating it."""

from __future__ import annotations

import click

from tess_sim.api import load
from tess_sim.commands.plugins import plugin_modules_option
from tess_sim.cost_models import load_models
from tess_sim.simulator.errors import exit_2_on_user_error as user_errors
from tess_sim.simulator.network import build_network


@click.command("validate")
@plugin_modules_option
@click.argument("workload", metavar="WORKLOAD")
@user_errors
def validate_cmd(workload):
    """Check WORKLOAD against the schema and its network shapes (no simulation)."""
    wl = load(workload)
    net = build_network(wl)
    load_models(wl.cost_models, wl.source)  # names, tables and parameters resolve
    click.echo(f"ok: {workload}: {wl.name}, {len(net.blocks)} spiking blocks + readout, "
               f"rules {', '.join(wl.rules.enabled())}, T = {wl.input.T}")
