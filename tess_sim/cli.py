"""The ``tess-sim`` command line: a thin shell over :mod:`tess_sim.api`.

Each command lives in its own module under :mod:`tess_sim.commands`, imported only when that
command runs (:class:`~tess_sim.commands.lazy.LazyGroup`, from :data:`COMMANDS`): this module
stays light (click only), so that ``tess-sim --help`` and every command start without importing
what the other commands need.

Exit codes: 0 ok, 2 bad input or an output that cannot be written (one line ``error: FILE: FIELD:
REASON``; a usage error ``error: OPTION: REASON``), 1 internal error, 130 interrupted (Ctrl-C; no
partial output is left), 141 stdout closed (``… | head``; quiet).
"""

from __future__ import annotations

import errno
import os
import sys

import click

from tess_sim import interrupt
from tess_sim.commands.lazy import LazyGroup, Table
from tess_sim.version import __version__

#: command -> (its click command, the first paragraph of its help, which ``tess-sim --help`` lists)
COMMANDS: Table = {
    "activity": ("tess_sim.commands.activity:activity",
                 "Activity files: turn recorded spike tensors into an exact activity CSV (from-npz)."),
    "data": ("tess_sim.commands.data:data",
             "Event-camera data: inspect recordings and dataset folders (info), write synthetic datasets "
             "(synth), and write a workload's W.npz / D.npz for `tess-sim grad` (npz)."),
    "export": ("tess_sim.commands.export:export",
               "Take a workload or a finished run elsewhere: its network and weights as a NIR graph (nir); a run's "
               "architecture and action counts in Accelergy / Timeloop's formats (accelergy)."),
    "grad": ("tess_sim.commands.grad:grad_cmd",
             "Golden model: the weight gradients of one mini-batch (float64), exactly as docs/math.md — BPTT "
             "the gradient of CE(softmax(Σ_t y[t])); S-TLLR / TESS the sum over the learning window of the "
             "per-step local gradients, readout included — plus spikes [n_blocks, T]. To make a W.npz and a "
             "D.npz for WORKLOAD: tess-sim data npz WORKLOAD --weights W.npz --data D.npz."),
    "import": ("tess_sim.commands.imports:import_group",
               "Bring a network made elsewhere in as a workload: a NIR graph (nir)."),
    "plot": ("tess_sim.commands.plot:plot_cmd",
             "Draw the plots of a finished sweep FOLDER (cost versus each swept key, heatmaps, energy)."),
    "reckon": ("tess_sim.commands.reckon:reckon_cmd",
               "Our energy per synaptic operation on the ReckOn-like WORKLOAD (default: the shipped "
               "workloads/reckon.yaml) next to ReckOn's published 5.3 pJ/SOP, with the ratio and why."),
    "report": ("tess_sim.commands.report:report_cmd",
               "Build report.html (self-contained) and report.md of a run or sweep FOLDER."),
    "run": ("tess_sim.commands.run:run_cmd",
            "Simulate WORKLOAD: print the summary, the timing headline (SimPy engine) and the energy per "
            "sample under each cost model; write summary.csv, ledger.csv, energy.csv, energy_breakdown.csv, "
            "results.json, activity.csv (reusable as `activity: {source: file}`), neurobench.csv (NeuroBench's "
            "metrics of the forward pass), complexity.png and, with the SimPy engine, timing.csv and placement.csv."),
    "schema": ("tess_sim.commands.schema:schema_cmd", "Print the workload JSON Schema."),
    "sweep": ("tess_sim.commands.sweep:sweep_cmd",
              "Run WORKLOAD over the grid of --set values (and its sweep: section); store each point as it "
              "finishes (re-running skips stored points), write sweep.csv, the plots and report.html."),
    "table": ("tess_sim.commands.table:table", "Tables recomputed from the shipped workloads."),
    "train": ("tess_sim.commands.train:train_cmd",
              "Train WORKLOAD's rules on its data (digits, or event recordings: synthetic by default); print "
              "test accuracy beside each rule's per-sample training cost under the trained network's measured "
              "activity. After every epoch a checkpoint per rule (checkpoints/<rule>.npz) and the epoch log "
              "(training_log.csv: accuracies, loss, spike rate per layer, seconds) are saved; a rerun with the "
              "same settings goes on from the checkpoints (--restart starts over). As each rule finishes: "
              "weights_<rule>.npz (the W.npz format of activity.weights and grad --weights) and training.csv."),
    "validate": ("tess_sim.commands.validate:validate_cmd",
                 "Check WORKLOAD against the schema and its network shapes (no simulation)."),
}


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


def _interrupted() -> None:
    click.echo("interrupted: no partial output was left", err=True)
    sys.exit(130)


class Cli(LazyGroup):
    """The command group: a usage error is one line on stderr and exit 2; Ctrl-C exit 130
    (``interrupted``); a closed stdout exit 141 without a traceback — for every command."""

    def invoke(self, ctx):
        with interrupt.watched():
            try:
                rv = super().invoke(ctx)
            except KeyboardInterrupt:
                _interrupted()
            except OSError as exc:
                if interrupt.fired():
                    _interrupted()
                _stdout_closed(exc)
            except Exception:
                if interrupt.fired():  # a Ctrl-C that a library turned into another exception
                    _interrupted()
                raise
            if interrupt.fired():  # a Ctrl-C that the work swallowed (nothing was committed after it)
                _interrupted()
            return rv

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


@click.group(cls=Cli, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tess-sim")
def main():
    """tess-sim: what does it cost, on a chip, to train an SNN with BPTT, S-TLLR or TESS?"""


if __name__ == "__main__":  # pragma: no cover
    main()
