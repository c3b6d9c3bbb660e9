"""The workload options several commands share: ``--set KEY=VALUE`` and
``--allow-plugin-modules``."""

from __future__ import annotations

import click

from tess_sim.cost_models import allow_plugin_modules
from tess_sim.simulator.errors import UserError
from tess_sim.sweeps.grid import parse_set


def plugin_modules_option(fn):
    """``--allow-plugin-modules``: the workload file may name ``module:Class`` cost models (sets
    TESS_SIM_ALLOW_PLUGIN_MODULES=1, which sweep workers inherit; see cost_models.registry)."""
    def on(ctx, param, value):
        if value:
            allow_plugin_modules()

    return click.option("--allow-plugin-modules", is_flag=True, expose_value=False, callback=on,
                        help="Trust the workload file: let its cost_models name module:Class "
                             "(importing a module runs its code).")(fn)


def set_option(fn):
    """``--set KEY=VALUE`` (repeatable): one workload key overridden, as in ``run`` (see
    :func:`overrides`)."""
    return click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                        help="Override one workload key (repeatable), e.g. --set activity.source=measured, "
                             "--set T=40.")(fn)


def overrides(sets) -> dict:
    """``--set KEY=VALUE`` options as a dict of canonical dotted keys (one YAML value each)."""
    out = {}
    for text in sets:
        key, values = parse_set(text)
        if len(values) != 1:
            raise UserError("--set", key, f"run takes one value per key, got {values} (use tess-sim sweep for a grid)")
        out[key] = values[0]
    return out
