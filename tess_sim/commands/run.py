"""``tess-sim run``: simulate one workload, print its figures and write its run folder."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path

import click

from tess_sim.api import activity_of, complexity, fit_slopes, load, run
from tess_sim.children import Background
from tess_sim.commands.options import overrides, set_option
from tess_sim.commands.plugins import plugin_modules_option
from tess_sim.commands.report import write_report
from tess_sim.cost_models import cost_report, load_models, parse_cli_spec
from tess_sim.outputs import NOT_APPLICABLE, check_finite, check_run_folder, result_tables, staged_folder
from tess_sim.densities import dense_bound, density_table
from tess_sim.simulator.neurobench import neurobench_metrics, neurobench_table
from tess_sim.reports.complexity import plot_complexity
from tess_sim.reports.densities import dense_bound_text, density_text
from tess_sim.reports.neurobench import neurobench_text
from tess_sim.reports.energy import energy_text
from tess_sim.reports.summary import schedule_text, summary_text
from tess_sim.simulator.activity import write_activity_csv
from tess_sim.simulator.atomic import write_bytes, write_text
from tess_sim.simulator.errors import exit_2_on_user_error as user_errors
from tess_sim.simulator.timing import headline_text


def complexity_png(wl, activity) -> bytes:
    """complexity.png of a workload at its activity (the run's own profile, carried to every T)."""
    cx = complexity(wl, activity=activity)
    return plot_complexity(cx, fit_slopes(cx), wl.input.T, wl.dataset or wl.name)


@click.command("run")
@plugin_modules_option
@click.argument("workload", metavar="WORKLOAD")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: out/<workload name>).")
@click.option("--engine", type=click.Choice(["simpy", "analytical"]), default=None,
              help="simpy: event-driven cycle-approximate core (default, from simulation.engine); "
                   "analytical: closed-form counts, instant.")
@click.option("--granularity", type=click.Choice(["event", "tile", "phase"]), default=None,
              help="SimPy work per event (default: simulation.granularity, tile).")
@click.option("--hardware", "hardware", type=click.Path(dir_okay=False), default=None,
              help="Hardware YAML replacing the workload's (e.g. workloads/hw/odin.yaml).")
@click.option("--no-plot", is_flag=True, help="Skip complexity.png.")
@set_option
@click.option("--cost-model", "cost_models", multiple=True, metavar="SPEC",
              help="Price the ledger with this cost model (repeatable; overrides the workload's "
                   "cost_models): counts, horowitz45, cacti28, accelergy-ert,file=ERT.yaml, a table .yaml, "
                   "module:Class or an "
                   "entry-point name, with parameters as NAME,key=value,...")
@user_errors
def run_cmd(workload, out_dir, engine, granularity, hardware, no_plot, sets, cost_models):
    """Simulate WORKLOAD: print the summary, the timing headline (SimPy engine) and the energy
    per sample under each cost model; write summary.csv, ledger.csv, energy.csv,
    energy_breakdown.csv, results.json, activity.csv (reusable as `activity: {source: file}`),
    neurobench.csv (NeuroBench's metrics of the forward pass), complexity.png and, with the SimPy
    engine, timing.csv and placement.csv.

    With measured (or recorded) activity also densities.csv (per layer: spike rate and the
    learning operands' densities, when measured) and energy_dense_bound.csv (each rule's energy
    beside the dense bound)."""
    wl = load(workload, hardware, overrides(sets))
    out = check_run_folder(Path(out_dir) if out_dir else Path("out") / wl.name)  # before the work
    engine = engine or wl.simulation.engine
    specs = [parse_cli_spec(c) for c in cost_models] if cost_models else wl.cost_models
    models = load_models(specs, wl.source, "--cost-model" if cost_models else None)
    act = activity_of(wl)  # measured activity runs the functional engine here, once
    plotting = wl.report.plots and not no_plot
    # complexity.png (11 analytical runs and matplotlib) is drawn in a child process, on the
    # second core, while the engine runs and the tables are written here
    with Background(complexity_png, wl, act) if plotting else nullcontext() as plot_job:
        res = run(wl, engine=engine, granularity=granularity, activity=act)
        costs = cost_report(res, models=models)
        check_finite(result_tables(res, costs), NOT_APPLICABLE)
        densities = density_table(wl, res.net, res.activity, wl.source or workload)
        bound = dense_bound(wl, res.net, costs, models) if res.activity.source in ("measured", "file") else None
        files = {"summary.csv": res.summary.to_csv(), "ledger.csv": res.ledger.to_csv(index=False),
                 "energy.csv": costs.summary.to_csv(index=False),
                 "energy_breakdown.csv": costs.breakdown.to_csv(index=False),
                 "results.json": json.dumps({**res.to_dict(), **costs.to_dict()}, indent=2, default=str),
                 "activity.csv": write_activity_csv(res.activity, res.net),
                 "neurobench.csv": neurobench_table(res.net, res.activity, list(wl.rules.enabled())).to_csv(index=False)}
        if densities is not None:
            files["densities.csv"] = densities.to_csv(index=False)
        if bound is not None:
            files["energy_dense_bound.csv"] = bound.to_csv(index=False)
        if res.placement is not None:
            files["placement.csv"] = res.placement.to_csv(index=False)
        if res.timing is not None:
            files["timing.csv"] = res.timing.to_csv(index=False)
        if res.mappings is not None:
            files["mapping.csv"] = res.mappings.to_csv(index=False)
        with staged_folder(out) as tmp:  # out/<name> appears complete or not at all
            for name, text in files.items():
                write_text(tmp / name, text)
            if plotting:
                files["complexity.png"] = plot_job.result()
                write_bytes(tmp / "complexity.png", files["complexity.png"])
            write_report(tmp)
    files.update({"report.html": "", "report.md": ""})
    i = wl.input
    click.echo(f"{wl.dataset or wl.name} ({wl.name}): input {i.shape}, T = {i.T}, {i.classes} classes, "
               f"batch {i.batch}, {len(res.net.blocks)} spiking blocks, engine {engine}")
    click.echo(f"activity: {res.activity.description}")
    if res.activity.source in ("measured", "file"):
        rates = res.activity.rates(res.net)
        neurons = {b.name: b.N_pre for b in res.net.blocks}
        mean = sum(r * neurons[name] for name, r in rates.items()) / sum(neurons.values())
        click.echo("spike rate per layer (spikes / neuron / step): "
                   + ", ".join(f"{name} {r:.4g}" for name, r in rates.items())
                   + f"; all {sum(neurons.values()):,} neurons {mean:.4g}")
    if densities is not None:
        click.echo(density_text(densities, wl.hardware.pe.zero))
    click.echo(neurobench_text(neurobench_metrics(res.net, res.activity)))
    click.echo("per sample; MB = 2^20 bytes; full memory at the hardware's bit widths "
               f"({wl.hardware.name}); (×) = ratio to BPTT")
    click.echo(summary_text(res.summary))
    click.echo(schedule_text(res.summary))
    if res.timing is not None:
        click.echo(headline_text(res.summary, wl.hardware))
    if res.mapper:
        click.echo(f"dataflow mapped ({wl.hardware.pe.array[0]} × {wl.hardware.pe.array[1]} PEs, spatial "
                   f"{wl.hardware.pe.spatial}, zero {wl.hardware.pe.zero}): mapping.csv has every contraction's mapping")
        click.echo(res.mapper)
    click.echo("")
    click.echo(energy_text(costs))
    if bound is not None:
        click.echo("")
        click.echo(dense_bound_text(bound))
    click.echo(f"wrote {out}/: {', '.join(files)}")
