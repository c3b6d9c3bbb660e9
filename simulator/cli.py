"""The ``tess-sim`` command line: a thin shell over :mod:`simulator.api`.

Exit codes: 0 ok, 2 bad input (one line naming file, field and reason), 1 internal error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .errors import UserError


def user_errors(fn):
    """Run ``fn``; a UserError becomes its one-line message on stderr and exit code 2."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            click.echo(f"error: {exc.line()}", err=True)
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tess-sim")
def main():
    """tess-sim: what does it cost, on a chip, to train an SNN with BPTT, S-TLLR or TESS?"""


@main.command("run")
@click.argument("workload", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: out/<workload name>).")
@click.option("--engine", type=click.Choice(["analytical"]), default="analytical", show_default=True,
              help="analytical: closed-form counts, instant.")
@click.option("--no-plot", is_flag=True, help="Skip complexity.png.")
@user_errors
def run_cmd(workload, out_dir, engine, no_plot):
    """Simulate WORKLOAD, print the summary, write summary.csv, ledger.csv, results.json and
    complexity.png."""
    from reports.summary import summary_text

    from .api import complexity, fit_slopes, run
    from .atomic import write_bytes, write_text
    from .workload import load_workload

    wl = load_workload(workload)
    res = run(wl, engine=engine)
    plot = None
    if wl.report.plots and not no_plot:
        from reports.complexity import plot_complexity

        cx = complexity(wl)
        plot = plot_complexity(cx, fit_slopes(cx), wl.input.T, wl.dataset or wl.name)
    out = Path(out_dir) if out_dir else Path("out") / wl.name
    write_text(out / "summary.csv", res.summary.to_csv())
    write_text(out / "ledger.csv", res.ledger.to_csv(index=False))
    write_text(out / "results.json", json.dumps(res.to_dict(), indent=2))
    if plot is not None:
        write_bytes(out / "complexity.png", plot)
    _write_report(out)
    i = wl.input
    click.echo(f"{wl.dataset or wl.name} ({wl.name}): input {i.shape}, T = {i.T}, {i.classes} classes, "
               f"batch {i.batch}, {len(res.net.blocks)} spiking blocks, engine {engine}")
    click.echo(f"activity: {res.activity.description}")
    click.echo("per sample; MB = 2^20 bytes; full memory at the hardware's bit widths "
               f"({wl.hardware.name}); (×) = ratio to BPTT")
    click.echo(summary_text(res.summary))
    click.echo(f"wrote {out}/: summary.csv, ledger.csv, results.json" + (", complexity.png" if plot else "")
               + ", report.html, report.md")


def _write_report(folder: Path) -> None:
    """report.html (self-contained) and report.md of a run or sweep folder."""
    from reports.page import build_report

    from .atomic import write_text

    page_html, page_md = build_report(folder)
    write_text(folder / "report.html", page_html)
    write_text(folder / "report.md", page_md)


@main.command("sweep")
@click.argument("workload", type=click.Path(dir_okay=False))
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
@click.option("--engine", default="analytical", show_default=True, help="Any engine of simulator.api.ENGINES.")
@click.option("--no-plot", is_flag=True, help="Skip the plots and the report.")
@user_errors
def sweep_cmd(workload, sets, executor, scheduler, workers, out_dir, force, engine, no_plot):
    """Run WORKLOAD over the grid of --set values (and its sweep: section); store each point as it
    finishes (re-running skips stored points), write sweep.csv, the plots and report.html."""
    import time

    from .sweep import plan_sweep, run_sweep
    from .sweep.progress import Progress

    if scheduler and executor != "dask":
        raise UserError("--scheduler", "", "only used with --executor dask")
    t0 = time.perf_counter()
    plan = plan_sweep(workload, list(sets), engine)
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
        _write_report(out)
        files += ["report.html", "report.md"]
    dt = time.perf_counter() - t0
    n_rules = res.table["rule"].nunique() if len(res.table) else 0
    click.echo(f"{len(plan.points)} points × {n_rules} rules: "
               f"{len(res.computed)} computed, {len(res.skipped)} already stored, {len(res.corrupt)} corrupt "
               f"recomputed, {len(res.failures)} failed; {executor} executor, {dt:.1f} s")
    click.echo(f"wrote {out}/: " + ", ".join(files))
    if res.failures:
        click.echo(f"{len(res.failures)} point(s) failed (see {out}/failures.json); re-run to retry them", err=True)
        sys.exit(1)


def _write_sweep_plots(folder: Path, title: str, formats=("png", "svg"), dpi: int = 100) -> list[str]:
    """The sweep's figures (see reports.sweep.sweep_figures) as PNG and SVG files; returns names."""
    import json as _json

    import pandas as pd

    from reports.sweep import sweep_figures

    from .atomic import write_bytes

    meta = _json.loads((folder / "sweep.json").read_text())
    table = pd.read_csv(folder / "sweep.csv")
    names = []
    for fmt in formats:
        for stem, data in sweep_figures(table, list(meta["settings"]), title, fmt, dpi).items():
            names.append(write_bytes(folder / f"{stem}.{fmt}", data).name)
    return names


@main.command("plot")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--format", "formats", default="png,svg", show_default=True, help="Comma-separated: png, svg.")
@click.option("--dpi", type=click.IntRange(min=20, max=600), default=100, show_default=True)
@user_errors
def plot_cmd(folder, formats, dpi):
    """Draw the plots of a finished sweep FOLDER (cost versus each swept key, heatmaps, energy)."""
    folder = Path(folder)
    if not (folder / "sweep.json").exists() or not (folder / "sweep.csv").exists():
        raise UserError(str(folder), "", "not a finished sweep folder (sweep.json, sweep.csv)")
    fmts = [f.strip() for f in formats.split(",") if f.strip()]
    bad = [f for f in fmts if f not in ("png", "svg")]
    if bad or not fmts:
        raise UserError("--format", "", f"unknown format '{(bad or [formats])[0]}' (png, svg)")
    import json as _json

    meta = _json.loads((folder / "sweep.json").read_text())
    names = _write_sweep_plots(folder, meta.get("title", meta["name"]), fmts, dpi)
    click.echo(f"wrote {folder}/: " + (", ".join(names) or "(nothing to plot)"))


@main.command("report")
@click.argument("folder", type=click.Path(file_okay=False))
@user_errors
def report_cmd(folder):
    """Build report.html (self-contained) and report.md of a run or sweep FOLDER."""
    folder = Path(folder)
    _write_report(folder)
    click.echo(f"wrote {folder}/report.html, {folder}/report.md")


@main.command("validate")
@click.argument("workload", type=click.Path(dir_okay=False))
@user_errors
def validate_cmd(workload):
    """Check WORKLOAD against the schema and its network shapes (no simulation)."""
    from .network import build_network
    from .workload import load_workload

    wl = load_workload(workload)
    net = build_network(wl)
    click.echo(f"ok: {workload}: {wl.name}, {len(net.blocks)} spiking blocks + readout, "
               f"rules {', '.join(wl.rules.enabled())}, T = {wl.input.T}")


@main.command("schema")
def schema_cmd():
    """Print the workload JSON Schema."""
    from .workload import Workload

    click.echo(json.dumps(Workload.model_json_schema(), indent=2))


@main.group("table")
def table():
    """Tables recomputed from the shipped workloads."""


@table.command("paper")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "markdown"]), default="text",
              show_default=True)
@click.option("--workloads", "folder", type=click.Path(file_okay=False, exists=True), default=None,
              help="Folder holding dvs, cifar10, cifar100 and cifar10dvs .yaml (default: the shipped ones).")
@user_errors
def table_paper(fmt, folder):
    """The TESS paper's #MAC / memory table (per sample, batch 1) beside the published cells."""
    from .paper import display, paper_table

    t = paper_table(folder)
    if fmt == "csv":
        click.echo(t.to_csv(index=False), nl=False)
        return
    shown = display(t)
    click.echo(_markdown(shown) if fmt == "markdown" else shown.to_string(index=False))
    click.echo("\nPublished cells are truncated to two decimals; the '2dp' columns truncate ours the same way.")
    dvs = t[(t["dataset"] == "DVS Gesture") & (t["method"] == "BPTT")]
    if len(dvs):
        row = dvs.iloc[0]
        click.echo(f"DVS Gesture #MAC: ours uses its {row['classes']} classes ({row['mac_millions']:.2f} M); "
                   f"the published {row['published_mac_millions']} M fits 10 classes "
                   f"(T × 512 = {row['T'] * 512 / 1e6:.5f} M per class).")
    click.echo("TESS #MAC: ours is 2·C·D_l per block (LSG projection and back-projection) + in × C for "
               "the readout, per learning step; the published cells follow no count we could derive "
               "(see 'ours/published').")


def _markdown(df) -> str:
    """A DataFrame of strings as a Markdown table (no tabulate dependency)."""
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    main()
