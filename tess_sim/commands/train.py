"""``tess-sim train``: train a workload's rules and print accuracy beside training cost."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd
from tqdm import tqdm

from tess_sim.api import load
from tess_sim.commands.options import overrides, set_option
from tess_sim.outputs import check_folder, removed_if_empty
from tess_sim.simulator.atomic import write_text
from tess_sim.simulator.errors import exit_2_on_user_error as user_errors
from tess_sim.simulator.functional.golden import save_npz_atomic
from tess_sim.trainer import train_workload


@click.command("train")
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
