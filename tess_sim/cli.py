"""The ``tess-sim`` command line: a thin shell over :mod:`simulator.api`.

Exit codes: 0 ok, 2 bad input or an output that cannot be written (one line ``error: FILE: FIELD:
REASON``; a usage error ``error: OPTION: REASON``), 1 internal error, 130 interrupted (Ctrl-C; no
partial output is left), 141 stdout closed (``… | head``; quiet).
"""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import click

from tess_sim.version import __version__
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.errors import exit_2_on_user_error as user_errors
from tess_sim.data_cli import data


def plugin_modules_option(fn):
    """``--allow-plugin-modules``: the workload file may name ``module:Class`` cost models (sets
    TESS_SIM_ALLOW_PLUGIN_MODULES=1, which sweep workers inherit; see cost_models.registry)."""
    def on(ctx, param, value):
        if value:
            from tess_sim.cost_models import allow_plugin_modules

            allow_plugin_modules()

    return click.option("--allow-plugin-modules", is_flag=True, expose_value=False, callback=on,
                        help="Trust the workload file: let its cost_models name module:Class "
                             "(importing a module runs its code).")(fn)


def usage_line(exc: click.UsageError) -> str:
    """A click usage error as one line: ``OPTION: REASON (see COMMAND --help)``."""
    param = getattr(exc, "param", None)
    if isinstance(exc, click.NoSuchOption):
        where, reason = exc.option_name, "no such option"
        if exc.possibilities:
            reason += f" (did you mean {', '.join(sorted(exc.possibilities))}?)"
    elif param is not None:
        where = param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
        reason = "missing (required)" if isinstance(exc, click.MissingParameter) else exc.message
    else:
        where, reason = (exc.ctx.command_path if exc.ctx else "tess-sim"), exc.message
    hint = f" (see {exc.ctx.command_path} --help)" if exc.ctx else ""
    return f"{where}: {reason.rstrip('.')}{hint}".replace("\n", " ")


def _stdout_closed(exc: OSError) -> None:
    """stdout's reader went away (``… | head``, EPIPE): point stdout at /dev/null so that the
    flush at exit stays quiet, and exit 141 (128 + SIGPIPE), as a shell tool killed by SIGPIPE
    would. Any other OSError is re-raised."""
    if exc.errno != errno.EPIPE:
        raise exc
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(141)


class Cli(click.Group):
    """The command group: a usage error is one line on stderr and exit 2; Ctrl-C exit 130
    (``interrupted``); a closed stdout exit 141 without a traceback — for every command."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("interrupted: no partial output was left", err=True)
            sys.exit(130)
        except OSError as exc:
            _stdout_closed(exc)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            click.echo(f"error: {usage_line(exc)}", err=True)
            sys.exit(2)
        except click.ClickException as exc:  # FileError and the like
            click.echo(f"error: {exc.format_message()}".replace("\n", " "), err=True)
            sys.exit(exc.exit_code)
        except click.Abort:  # Ctrl-C while click itself was busy (prompts, parsing)
            click.echo("interrupted", err=True)
            sys.exit(130)
        except OSError as exc:
            _stdout_closed(exc)
        sys.exit(rv if isinstance(rv, int) else 0)


def set_option(fn):
    """``--set KEY=VALUE`` (repeatable): one workload key overridden, as in ``run`` (see
    :func:`overrides`)."""
    return click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                        help="Override one workload key (repeatable), e.g. --set activity.source=measured, "
                             "--set T=40.")(fn)


def checked_output(name: str, kind: str = "folder"):
    """Check the output path of keyword ``name`` (when given) before the command does any work
    (:func:`simulator.outputs.check_folder` / ``check_file``): a bad path is exit 2, nothing
    written. Put it below ``@user_errors``."""
    import functools

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if kwargs.get(name) is not None:
                from tess_sim.outputs import check_file, check_folder

                (check_file if kind == "file" else check_folder)(kwargs[name])
            return fn(*args, **kwargs)

        return wrapper

    return deco


@click.group(cls=Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tess-sim")
def main():
    """tess-sim: what does it cost, on a chip, to train an SNN with BPTT, S-TLLR or TESS?"""


@main.command("run")
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
                   "cost_models): counts, horowitz45, cacti28, a table .yaml, module:Class or an "
                   "entry-point name, with parameters as NAME,key=value,...")
@user_errors
def run_cmd(workload, out_dir, engine, granularity, hardware, no_plot, sets, cost_models):
    """Simulate WORKLOAD: print the summary, the timing headline (SimPy engine) and the energy
    per sample under each cost model; write summary.csv, ledger.csv, energy.csv,
    energy_breakdown.csv, results.json, activity.csv (reusable as `activity: {source: file}`),
    complexity.png and, with the SimPy engine, timing.csv and placement.csv."""
    from tess_sim.cost_models import cost_report, load_models, parse_cli_spec
    from tess_sim.reports.energy import energy_text
    from tess_sim.reports.summary import summary_text

    from tess_sim.simulator.activity import write_activity_csv
    from tess_sim.api import complexity, fit_slopes, run
    from tess_sim.simulator.atomic import write_bytes, write_text
    from tess_sim.api import load

    from tess_sim.outputs import NOT_APPLICABLE, check_finite, check_run_folder, result_tables, staged_folder

    wl = load(workload, hardware, overrides(sets))
    out = check_run_folder(Path(out_dir) if out_dir else Path("out") / wl.name)  # before the work
    engine = engine or wl.simulation.engine
    specs = [parse_cli_spec(c) for c in cost_models] if cost_models else wl.cost_models
    models = load_models(specs, wl.source, "--cost-model" if cost_models else None)
    res = run(wl, engine=engine, granularity=granularity)
    costs = cost_report(res, models=models)
    check_finite(result_tables(res, costs), NOT_APPLICABLE)
    plot = None
    if wl.report.plots and not no_plot:
        from tess_sim.reports.complexity import plot_complexity

        cx = complexity(wl, activity=res.activity)
        plot = plot_complexity(cx, fit_slopes(cx), wl.input.T, wl.dataset or wl.name)
    files = {"summary.csv": res.summary.to_csv(), "ledger.csv": res.ledger.to_csv(index=False),
             "energy.csv": costs.summary.to_csv(index=False),
             "energy_breakdown.csv": costs.breakdown.to_csv(index=False),
             "results.json": json.dumps({**res.to_dict(), **costs.to_dict()}, indent=2, default=str),
             "activity.csv": write_activity_csv(res.activity, res.net)}
    if res.placement is not None:
        files["placement.csv"] = res.placement.to_csv(index=False)
    if res.timing is not None:
        files["timing.csv"] = res.timing.to_csv(index=False)
    with staged_folder(out) as tmp:  # out/<name> appears complete or not at all
        for name, text in files.items():
            write_text(tmp / name, text)
        if plot is not None:
            write_bytes(tmp / "complexity.png", plot)
            files["complexity.png"] = plot
        _write_report(tmp)
    files.update({"report.html": "", "report.md": ""})
    i = wl.input
    click.echo(f"{wl.dataset or wl.name} ({wl.name}): input {i.shape}, T = {i.T}, {i.classes} classes, "
               f"batch {i.batch}, {len(res.net.blocks)} spiking blocks, engine {engine}")
    click.echo(f"activity: {res.activity.description}")
    if res.activity.source in ("measured", "file"):
        rates = res.activity.rates(res.net)
        click.echo("spike rate per layer (spikes / neuron / step): "
                   + ", ".join(f"{name} {r:.4g}" for name, r in rates.items()))
    click.echo("per sample; MB = 2^20 bytes; full memory at the hardware's bit widths "
               f"({wl.hardware.name}); (×) = ratio to BPTT")
    click.echo(summary_text(res.summary))
    if res.timing is not None:
        from tess_sim.simulator.timing import headline_text

        click.echo(headline_text(res.summary, wl.hardware))
    click.echo("")
    click.echo(energy_text(costs))
    click.echo(f"wrote {out}/: {', '.join(files)}")


def overrides(sets) -> dict:
    """``--set KEY=VALUE`` options as a dict of canonical dotted keys (one YAML value each)."""
    from tess_sim.sweeps.grid import parse_set

    out = {}
    for text in sets:
        key, values = parse_set(text)
        if len(values) != 1:
            raise UserError("--set", key, f"run takes one value per key, got {values} (use tess-sim sweep for a grid)")
        out[key] = values[0]
    return out


class ReckonCommand(click.Command):
    """``reckon``: its help ends with the ReckOn-like definition that reports.calibration checks
    (imported when the help is shown, so that loading the CLI stays light)."""

    def format_help_text(self, ctx, formatter):
        import inspect

        from tess_sim.reports.calibration import RECKON_LIKE

        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(f"{inspect.cleandoc(self.help)} {RECKON_LIKE}.")


@main.command("reckon", cls=ReckonCommand)
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
    import tess_sim.workloads as shipped
    from tess_sim.cost_models import cost_report, load_models, parse_cli_spec
    from tess_sim.reports.calibration import not_reckon_like, reckon_table, reckon_text

    from tess_sim.api import run
    from tess_sim.api import load

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




@main.command("grad")
@click.argument("workload", metavar="WORKLOAD")
@click.option("--weights", "weights_path", required=True, type=click.Path(dir_okay=False),
              help="W.npz: one array per weighted layer keyed by its name (conv [C_out,C_in,k,k], "
                   "linear/readout [out,in]), biases under <name>.bias.")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False),
              help="D.npz: x [T, batch, *input_shape] (float) and labels [batch] (int).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="G.npz to write.")
@click.option("--rule", default=None, help="bptt | stllr | tess | readout (default: the workload's "
              "only rule; required when it has several).")
@click.option("--trace", is_flag=True, help="Add per-step membranes, traces and learning signals.")
@set_option
@user_errors
@checked_output("out_path", "file")
def grad_cmd(workload, weights_path, data_path, out_path, rule, trace, sets):
    """Golden model: the weight gradients of one mini-batch (float64), exactly as docs/math.md —
    BPTT the gradient of CE(softmax(Σ_t y[t])); S-TLLR / TESS the sum over the learning window of
    the per-step local gradients, readout included — plus spikes [n_blocks, T]. To make a W.npz
    and a D.npz for WORKLOAD: tess-sim data npz WORKLOAD --weights W.npz --data D.npz."""
    import numpy as np

    from tess_sim.simulator.measured.bridge import rule_params
    from tess_sim.simulator.functional.golden import (check_finite_gradients, compute_gradients, load_data, load_weights,
                                    save_npz_atomic)
    from tess_sim.simulator.network import build_network
    from tess_sim.api import load

    wl = load(workload, None, overrides(sets))
    enabled = list(wl.rules.enabled())
    if rule is None:
        if len(enabled) != 1:
            raise UserError("--rule", "", f"the workload enables {', '.join(enabled)}: choose one with --rule")
        rule = enabled[0]
    if rule not in enabled + ["readout"]:
        raise UserError("--rule", "", f"unknown or disabled rule '{rule}' (enabled: {', '.join(enabled)}, readout)")
    net = build_network(wl)
    w = load_weights(weights_path, net)
    x, labels = load_data(data_path, net, wl.input.T)
    g = compute_gradients(net, rule, rule_params(wl, rule), w, x, labels, np.float64, trace)
    check_finite_gradients(g, data_path, weights_path)
    save_npz_atomic(out_path, g)
    click.echo(f"wrote {out_path}: rule {rule}, {len(w)} weight arrays, batch {x.shape[1]}, T = {x.shape[0]}"
               + (", with traces" if trace else ""))


@main.command("train")
@click.argument("workload", metavar="WORKLOAD")
@click.option("--rule", "rules", multiple=True, help="Rule to train (repeatable; default: the workload's "
              "rules and, with training.control, the readout-only control 'readout').")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Override training.epochs.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override training.seed.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: out/<workload name>).")
@set_option
@user_errors
def train_cmd(workload, rules, epochs, seed, out_dir, sets):
    """Train WORKLOAD's rules on its data; print test accuracy beside each rule's per-sample
    training cost under the trained network's measured activity; save weights_<rule>.npz (the
    --weights format) and training.csv as each rule finishes (Ctrl-C keeps the finished ones)."""
    from tqdm import tqdm

    from tess_sim.simulator.atomic import write_text
    from tess_sim.simulator.functional.golden import save_npz_atomic
    from tess_sim.trainer import train_workload
    from tess_sim.api import load

    from tess_sim.outputs import check_folder, removed_if_empty

    wl = load(workload, None, overrides(sets))
    out = check_folder(Path(out_dir) if out_dir else Path("out") / wl.name)  # before 20 epochs, not after
    n_rules = len(rules) if rules else len(wl.rules.enabled()) + int(wl.training.control)
    bar = tqdm(total=n_rules * (epochs or wl.training.epochs), disable=not sys.stderr.isatty(),
               desc="training", unit="epoch")

    def on_epoch(rule, epoch, train_acc, test_acc):
        bar.set_postfix_str(f"{rule} epoch {epoch}: test {test_acc:.3f}")
        bar.update(1)

    kept = []

    def on_rule(rule, history, table):  # saved as each rule finishes: an interrupt keeps them
        save_npz_atomic(out / f"weights_{rule}.npz", history.weights)
        kept.append(f"weights_{rule}.npz")
        write_text(out / "training.csv", table.to_csv())
        kept.append("training.csv")

    try:
        with removed_if_empty(out):
            res = train_workload(wl, list(rules) or None, epochs, seed, on_epoch, on_rule)
    except KeyboardInterrupt:
        bar.close()
        names = sorted(set(kept), key=kept.index)
        click.echo("interrupted: " + (f"kept {out}/: {', '.join(names)} of the rules that had finished (train "
                                      "the others with --rule)" if kept else "no rule had finished, nothing was written"),
                   err=True)
        sys.exit(130)
    bar.close()
    t = res.table
    click.echo(f"{wl.dataset or wl.name}: {t['epochs'].iloc[0]} epochs, seed "
               f"{wl.training.seed if seed is None else seed}, init {wl.training.init}; cost per training sample "
               f"(analytical engine, activity measured on the test set with the trained weights)")
    shown = pd_format(t)
    click.echo(shown.to_string())
    click.echo(f"wrote {out}/: training.csv, " + ", ".join(f"weights_{r}.npz" for r in res.histories))


def pd_format(t):
    """The training table as strings."""
    import pandas as pd

    def f(fmt):
        return lambda v: "" if pd.isna(v) else format(v, fmt)

    return pd.DataFrame({"rule": t["label"], "test acc": t["test_acc"].map(f(".3f")),
                         "train acc": t["train_acc"].map(f(".3f")),
                         "learning ops (M)": t["learning_ops_M"].map(f(".3f")),
                         "total ops (M)": t["total_ops_M"].map(f(".3f")),
                         "paper #MAC (M)": t["paper_mac_M"].map(f(".4f")),
                         "full memory (MB)": t["full_memory_MB"].map(f(".4f")),
                         "spike rate": t["spike_rate"].map(f(".3f")),
                         "wall (s)": t["seconds"].map(f(".1f"))}).set_index("rule")


def _write_report(folder: Path) -> None:
    """report.html (self-contained) and report.md of a run or sweep folder."""
    from tess_sim.reports.page import build_report

    from tess_sim.simulator.atomic import write_text

    page_html, page_md = build_report(folder)
    write_text(folder / "report.html", page_html)
    write_text(folder / "report.md", page_md)


@main.command("sweep")
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
    import time

    from tess_sim.sweeps import plan_sweep, run_sweep
    from tess_sim.sweeps.progress import Progress

    if scheduler and executor != "dask":
        raise UserError("--scheduler", "", "only used with --executor dask")
    t0 = time.perf_counter()
    plan = plan_sweep(workload, list(sets), engine)
    from tess_sim.cost_models import check_file_specs

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
        _write_report(out)
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
    import json as _json

    import pandas as pd

    from tess_sim.reports.sweep import sweep_figures

    from tess_sim.simulator.atomic import write_bytes

    meta = _json.loads((folder / "sweep.json").read_text())
    table = pd.read_csv(folder / "sweep.csv")
    names = []
    for fmt in formats:
        for stem, image in sweep_figures(table, list(meta["settings"]), title, fmt, dpi).items():
            names.append(write_bytes(folder / f"{stem}.{fmt}", image).name)
    return names


@main.command("plot")
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
    import json as _json

    meta = _json.loads((folder / "sweep.json").read_text())
    names = _write_sweep_plots(folder, meta.get("title", meta["name"]), fmts, dpi)
    click.echo(f"wrote {folder}/: " + (", ".join(names) or "(nothing to plot)"))


@main.command("report")
@click.argument("folder", type=click.Path(file_okay=False))
@user_errors
@checked_output("folder")
def report_cmd(folder):
    """Build report.html (self-contained) and report.md of a run or sweep FOLDER."""
    folder = Path(folder)
    _write_report(folder)
    click.echo(f"wrote {folder}/report.html, {folder}/report.md")


@main.command("validate")
@plugin_modules_option
@click.argument("workload", metavar="WORKLOAD")
@user_errors
def validate_cmd(workload):
    """Check WORKLOAD against the schema and its network shapes (no simulation)."""
    from tess_sim.cost_models import load_models

    from tess_sim.simulator.network import build_network
    from tess_sim.api import load

    wl = load(workload)
    net = build_network(wl)
    load_models(wl.cost_models, wl.source)  # names, tables and parameters resolve
    click.echo(f"ok: {workload}: {wl.name}, {len(net.blocks)} spiking blocks + readout, "
               f"rules {', '.join(wl.rules.enabled())}, T = {wl.input.T}")


@main.command("schema")
def schema_cmd():
    """Print the workload JSON Schema."""
    from tess_sim.simulator.workload import Workload

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
    from tess_sim.paper import display, paper_table

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


main.add_command(data)

if __name__ == "__main__":  # pragma: no cover
    main()
