"""``--set KEY=VALUE``, the workload override option of run, reckon, grad and train, and its
parsing."""

from __future__ import annotations

import click

from tess_sim.simulator.errors import UserError
from tess_sim.sweeps.grid import parse_set


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
