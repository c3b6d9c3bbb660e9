"""Options and helpers several commands share: ``--set``, ``--allow-plugin-modules``, the
output-path check made before any work, and the report of a run or sweep folder."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from tess_sim.cost_models import allow_plugin_modules
from tess_sim.outputs import check_file, check_folder
from tess_sim.reports.page import build_report
from tess_sim.simulator.atomic import write_text
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


def checked_output(name: str, kind: str = "folder"):
    """Check the output path of keyword ``name`` (when given) before the command does any work
    (:func:`tess_sim.outputs.check_folder` / ``check_file``): a bad path is exit 2, nothing
    written. Put it below ``@user_errors``."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if kwargs.get(name) is not None:
                (check_file if kind == "file" else check_folder)(kwargs[name])
            return fn(*args, **kwargs)

        return wrapper

    return deco


def write_report(folder: Path) -> None:
    """report.html (self-contained) and report.md of a run or sweep folder."""
    page_html, page_md = build_report(folder)
    write_text(folder / "report.html", page_html)
    write_text(folder / "report.md", page_md)
