"""``tess-sim sweep``: run a workload over a grid of settings, storing each point as it finishes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from tess_sim.commands.plugins import plugin_modules_option
from tess_sim.commands.plot import write_sweep_plots
from tess_sim.commands.report import write_report
from tess_sim.cost_models import check_file_specs
from tess_sim.outputs import checked_output
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
        files += write_sweep_plots(out, plan.title)
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
