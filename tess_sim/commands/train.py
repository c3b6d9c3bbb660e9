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
from tess_sim.simulator.network import build_network
from tess_sim.trainer import train_workload


@click.command("train")
@click.argument("workload", metavar="WORKLOAD")
@click.option("--rule", "rules", multiple=True, help="Rule to train (repeatable; default: the workload's "
              "rules and, with training.control, the readout-only control 'readout').")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Override training.epochs.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override training.seed.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: out/<workload name>).")
@click.option("--restart", is_flag=True, help="Ignore the checkpoints in the output folder and start over.")
@set_option
@user_errors
def train_cmd(workload, rules, epochs, seed, out_dir, restart, sets):
    """Train WORKLOAD's rules on its data (digits, or event recordings: synthetic by default);
    print test accuracy beside each rule's per-sample training cost under the trained network's
    measured activity. After every epoch a checkpoint per rule (checkpoints/<rule>.npz) and the
    epoch log (training_log.csv: accuracies, loss, spike rate per layer, seconds) are saved; a
    rerun with the same settings goes on from the checkpoints (--restart starts over). As each
    rule finishes: weights_<rule>.npz (the W.npz format of activity.weights and grad --weights)
    and training.csv."""
    wl = load(workload, None, overrides(sets))
    out = check_folder(Path(out_dir) if out_dir else Path("out") / wl.name)  # before 20 epochs, not after
    n_rules = len(rules) if rules else len(wl.rules.enabled()) + int(wl.training.control)
    n_epochs = epochs or wl.training.epochs
    blocks = [b.name for b in build_network(wl).blocks]
    bars = {}
    log: dict[str, list] = {}  # rule -> its epoch rows; rows of rules not trained now are kept
    if (out / "training_log.csv").exists() and not restart:
        old = pd.read_csv(out / "training_log.csv")
        log = {r: g.to_dict("records") for r, g in old.groupby("rule", sort=False)}

    def on_data(description, n_train):
        click.echo(f"data: {description}")
        bars["n"] = n_train
        bars["bar"] = tqdm(total=n_rules * n_epochs * n_train, disable=not sys.stderr.isatty(),
                           desc="training", unit="sample")

    def on_resume(rule, epoch):
        click.echo(f"{rule}: going on from its checkpoint after epoch {epoch} ({out / 'checkpoints'})", err=True)
        bars["bar"].update(epoch * bars["n"])

    def on_batch(rule, n):
        bars["bar"].update(n)

    def on_epoch(rule, epoch, history):
        bars["bar"].set_postfix_str(f"{rule} epoch {epoch}: test {history.test_acc[-1]:.3f}")
        log[rule] = epoch_rows(rule, history, blocks)
        write_text(out / "training_log.csv", pd.DataFrame([r for rows in log.values() for r in rows]).to_csv(index=False))
        kept.append("training_log.csv")

    kept = []

    def on_rule(rule, history, table):  # saved as each rule finishes: an interrupt keeps them
        save_npz_atomic(out / f"weights_{rule}.npz", history.weights)
        kept.append(f"weights_{rule}.npz")
        write_text(out / "training.csv", table.to_csv())
        kept.append("training.csv")

    try:
        with removed_if_empty(out):
            res = train_workload(wl, list(rules) or None, epochs, seed, on_epoch, on_rule,
                                 checkpoints=out / "checkpoints", restart=restart, on_data=on_data,
                                 on_batch=on_batch, on_resume=on_resume)
    except KeyboardInterrupt:
        if "bar" in bars:
            bars["bar"].close()
        names = sorted(set(kept), key=kept.index)
        click.echo("interrupted: " + (f"kept {out}/: {', '.join(names)} and checkpoints/ (run the same command "
                                      "again to go on)" if kept else "no epoch had finished, nothing was written"),
                   err=True)
        sys.exit(130)
    if "bar" in bars:
        bars["bar"].close()
    t = res.table
    click.echo(f"{wl.dataset or wl.name}: {t['epochs'].iloc[0]} epochs, seed "
               f"{wl.training.seed if seed is None else seed}, init {wl.training.init}; cost per training sample "
               f"(analytical engine, activity measured on the test set with the trained weights)")
    shown = pd_format(t)
    click.echo(shown.to_string())
    click.echo(f"wrote {out}/: training.csv, training_log.csv, checkpoints/, "
               + ", ".join(f"weights_{r}.npz" for r in res.histories))


def epoch_rows(rule: str, history, names: list[str]) -> list[dict]:
    """training_log.csv rows of one rule: per epoch its accuracies, loss, seconds and the spike
    rate of every block ``names`` (spikes per neuron per step, training samples)."""
    return [{"rule": rule, "epoch": e + 1, "train_acc": history.train_acc[e], "test_acc": history.test_acc[e],
             "loss": history.loss[e], "seconds": history.epoch_seconds[e],
             **{f"rate_{n}": r for n, r in zip(names, history.rates[e])}}
            for e in range(len(history.test_acc))]


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
