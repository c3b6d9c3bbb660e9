"""``--allow-plugin-modules``, the option of the commands that load a workload's cost models."""

from __future__ import annotations

import click

from tess_sim.cost_models import allow_plugin_modules


def plugin_modules_option(fn):
    """``--allow-plugin-modules``: the workload file may name ``module:Class`` cost models (sets
    TESS_SIM_ALLOW_PLUGIN_MODULES=1, which sweep workers inherit; see cost_models.registry)."""
    def on(ctx, param, value):
        if value:
            allow_plugin_modules()

    return click.option("--allow-plugin-modules", is_flag=True, expose_value=False, callback=on,
                        help="Trust the workload file: let its cost_models name module:Class "
                             "(importing a module runs its code).")(fn)
