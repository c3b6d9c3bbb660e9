"""``tess-sim reckon``: our energy per synaptic operation on a ReckOn-like workload next to
ReckOn's published figure."""

from __future__ import annotations

import inspect
from pathlib import Path

import click

import tess_sim.workloads as shipped
from tess_sim.api import load, run
from tess_sim.commands.options import overrides, set_option
from tess_sim.commands.plugins import plugin_modules_option
from tess_sim.cost_models import cost_report, load_models, parse_cli_spec
from tess_sim.reports.calibration import RECKON_LIKE, not_reckon_like, reckon_table, reckon_text
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.errors import exit_2_on_user_error as user_errors


class ReckonCommand(click.Command):
    """``reckon``: its help ends with the ReckOn-like definition that reports.calibration checks
    (:data:`~tess_sim.reports.calibration.RECKON_LIKE`, written once)."""

    def format_help_text(self, ctx, formatter):
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(f"{inspect.cleandoc(self.help)} {RECKON_LIKE}.")


@click.command("reckon", cls=ReckonCommand)
@plugin_modules_option
@click.argument("workload", metavar="[WORKLOAD]", required=False)
@click.option("--rule", default="stllr", show_default=True, help="The rule compared (e-prop-like: stllr).")
@click.option("--cost-model", "cost_models", multiple=True, metavar="SPEC",
              help="Override the workload's cost models (repeatable), as in 'run'; energy models only "
                   "(the counts model prices no energy).")
@set_option
@user_errors
def reckon_cmd(workload, rule, cost_models, sets):
    """Our energy per synaptic operation on the ReckOn-like WORKLOAD (default: the shipped
    workloads/reckon.yaml) next to ReckOn's published 5.3 pJ/SOP, with the ratio and why.

    ReckOn-like (else exit 2, saying why it is not comparable):"""
    path = workload or str(Path(shipped.__file__).parent / "reckon.yaml")
    wl = load(path, None, overrides(sets))
    if rule not in wl.rules.enabled():
        raise UserError("--rule", "", f"rule '{rule}' is not enabled in {path} "
                        f"(enabled: {', '.join(wl.rules.enabled())})")
    why = not_reckon_like(wl, rule)
    if why:
        raise UserError(path, "", "not ReckOn-like, so not comparable with ReckOn's published pJ/SOP: "
                        + "; ".join(why) + " (see tess-sim reckon --help)")
    specs = [parse_cli_spec(c) for c in cost_models] if cost_models else wl.cost_models
    models = load_models(specs, wl.source, "--cost-model" if cost_models else None)
    for i, m in enumerate(models):
        if getattr(m, "unit", "pJ") != "pJ":
            raise UserError("--cost-model" if cost_models else path, "" if cost_models else f"cost_models[{i}]",
                            f"{getattr(m, 'name', m)}: prices no energy (its unit is '{m.unit}'), so it has no pJ/SOP to "
                            "compare; use an energy model (horowitz45, cacti28, a table .yaml)")
    res = run(wl, engine=wl.simulation.engine)
    table = reckon_table(cost_report(res, models=models), rule)
    label = res.summary.loc[rule, "label"]
    click.echo(reckon_text(table, label, workload or "workloads/reckon.yaml (shipped)", res.activity.description,
                           wl.hardware))
