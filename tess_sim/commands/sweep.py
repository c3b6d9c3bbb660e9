"""``tess-sim sweep`` (a grid of workload settings, stored point by point) and ``tess-sim plot``
(the figures of a finished sweep folder)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
import pandas as pd

from tess_sim.commands.common import checked_output, plugin_modules_option, write_report
from tess_sim.cost_models import check_file_specs
from tess_sim.reports.sweep import sweep_figures
from tess_sim.simulator.atomic import write_bytes
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.errors import exit_2_on_user_error as user_errors
from tess_sim.sweeps import plan_sweep, run_sweep
from tess_sim.sweeps.progress import Progress


@click.command("sweep")
@plugin_modules_option
@click.argument("workload", metavar="WORKLOAD")
@click.option("--set", "sets", multiple=True, metavar="KEY=V1,V2,…",
              help="A swept workload key and its values: a list (1,2,4), a range a..b, a..b+STEP or "
                   "geometric a..b*FACTOR (T=1..1024*2). Repeat for more keys; the grid is their product.")
@click.option("--executor", type=click.Choice(["serial", "process", "dask"]), default="process",
              show_default=True, help="process: local processes; dask: a distributed cluster.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler (tcp://HOST:PORT); default: a local Dask cluster.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes / local Dask workers (default: all cores).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Sweep folder (default: out/sweep-<workload name>).")
@click.option("--force", is_flag=True, help="Recompute points already stored.")
@click.option("--engine", default="analytical", show_default=True, help="Any engine of tess_sim.api.ENGINES.")
@click.option("--no-plot", is_flag=True, help="Skip the plots and the report.")
@user_errors
@checked_output("out_dir")
def sweep_cmd(workload, sets, executor, scheduler, workers, out_dir, force, engine, no_plot):
    """Run WORKLOAD over the grid of --set values (and its sweep: section); store each point as it
    finishes (re-running skips stored points), write sweep.csv, the plots and report.html."""
    if scheduler and executor != "dask":
        raise UserError("--scheduler", "", "only used with --executor dask")
    t0 = time.perf_counter()
    plan = plan_sweep(workload, list(sets), engine)
    for p in plan.points:  # refused here (exit 2), not in every worker
        check_file_specs(p.config.get("cost_models"), plan.workload)
    if not plan.settings:
        raise UserError("--set", "", "nothing to sweep: give --set KEY=V1,V2,… or a sweep: section")
    out = Path(out_dir) if out_dir else Path("out") / f"sweep-{plan.name}"
    progress = Progress()
    try:
        res = run_sweep(plan, out, executor, workers, scheduler, force, log=progress.note, progress=progress)
    except KeyboardInterrupt:
        progress.close()
        click.echo(f"interrupted: finished points are stored in {out}/points; run the same command "
                   "again to compute only the missing ones", err=True)
        sys.exit(130)
    files = ["sweep.csv", "failures.json"]
    if not no_plot:
        files += _write_sweep_plots(out, plan.title)
        write_report(out)
        files += ["report.html", "report.md"]
    dt = time.perf_counter() - t0
    n_rules = res.table["rule"].nunique() if len(res.table) else 0
    click.echo(f"{len(plan.points)} points × {n_rules} rules: "
               f"{len(res.computed)} computed, {len(res.skipped)} already stored, {len(res.corrupt)} corrupt "
               f"recomputed, {len(res.stale)} recomputed (code changed), {len(res.failures)} failed; "
               f"{executor} executor, {dt:.1f} s")
    click.echo(f"wrote {out}/: " + ", ".join(files))
    if res.failures:
        click.echo(f"{len(res.failures)} point(s) failed (see {out}/failures.json); re-run to retry them", err=True)
        sys.exit(1)


def _write_sweep_plots(folder: Path, title: str, formats=("png", "svg"), dpi: int = 100) -> list[str]:
    """The sweep's figures (see reports.sweep.sweep_figures) as PNG and SVG files; returns names."""
    meta = json.loads((folder / "sweep.json").read_text())
    table = pd.read_csv(folder / "sweep.csv")
    names = []
    for fmt in formats:
        for stem, image in sweep_figures(table, list(meta["settings"]), title, fmt, dpi).items():
            names.append(write_bytes(folder / f"{stem}.{fmt}", image).name)
    return names


@click.command("plot")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--format", "formats", default="png,svg", show_default=True, help="Comma-separated: png, svg.")
@click.option("--dpi", type=click.IntRange(min=20, max=600), default=100, show_default=True)
@user_errors
@checked_output("folder")
def plot_cmd(folder, formats, dpi):
    """Draw the plots of a finished sweep FOLDER (cost versus each swept key, heatmaps, energy)."""
    folder = Path(folder)
    if not (folder / "sweep.json").exists() or not (folder / "sweep.csv").exists():
        raise UserError(str(folder), "", "not a finished sweep folder (sweep.json, sweep.csv)")
    fmts = [f.strip() for f in formats.split(",") if f.strip()]
    bad = [f for f in fmts if f not in ("png", "svg")]
    if bad or not fmts:
        raise UserError("--format", "", f"unknown format '{(bad or [formats])[0]}' (png, svg)")
    meta = json.loads((folder / "sweep.json").read_text())
    names = _write_sweep_plots(folder, meta.get("title", meta["name"]), fmts, dpi)
    click.echo(f"wrote {folder}/: " + (", ".join(names) or "(nothing to plot)"))
