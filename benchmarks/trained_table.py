"""The tables of docs/trained-activity.md: VGG-9 trained with each rule, then profiled with its own
measured activity. Reads the ``training.csv`` files of ``tess-sim train`` and the run folders of

    tess-sim run workloads/dvs.yaml ... --set activity.weights=TRAIN/weights_<rule>.npz \\
        --hardware workloads/hw/<hw>.yaml --out RUNS/<rule>_<hw>

and prints (1) accuracy per rule, (2) per-layer spike rates of each rule's trained network,
(3) per rule and hardware: cycles, energy at the measured activity and under the dense bound, and
the learning ops with zero operands skipped against executed. A rule's row of a run folder is the
rule's own (the run profiles every rule with one set of weights; only that rule's row is the
rule's trained network).

    python benchmarks/trained_table.py --train A/training.csv --train B/training.csv \\
        --runs RUNS --hardware edge --hardware sata
    python benchmarks/trained_table.py --log 0=out/long-tess-s0 --log 0=out/long-ctl-s0 ...   # per seed
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

RULES = ("bptt", "stllr", "tess")
LABELS = {"bptt": "BPTT", "stllr": "S-TLLR", "tess": "TESS", "readout": "readout only (control)"}


def accuracy(trainings: list[Path]) -> str:
    df = pd.concat([pd.read_csv(p) for p in trainings]).set_index("rule")
    rows = ["| rule | epochs | train accuracy | test accuracy | training seconds |", "|---|---:|---:|---:|---:|"]
    for rule in [*RULES, "readout"]:
        if rule in df.index:
            r = df.loc[rule]
            rows.append(f"| {LABELS[rule]} | {r['epochs']:.0f} | {r['train_acc']:.3f} | {r['test_acc']:.3f} | "
                        f"{r['seconds']:,.0f} |")
    return "\n".join(rows)


def seeds(logs: list[str]) -> str:
    """Per training run (``SEED=FOLDER``, the ``--out`` of one ``tess-sim train --seed SEED``):
    test accuracy at the last epoch, its mean over the last five epochs (the test accuracy of
    these short runs swings by several samples from epoch to epoch), and the best epoch's."""
    rows = ["| rule | seed | epochs | test accuracy, last epoch | mean of the last 5 epochs | best epoch (accuracy) |",
            "|---|---:|---:|---:|---:|---:|"]
    for item in logs:
        seed, folder = item.split("=", 1)
        log = pd.read_csv(Path(folder) / "training_log.csv")
        for rule, r in log.groupby("rule", sort=False):
            r = r.sort_values("epoch")
            best = r.loc[r["test_acc"].idxmax()]
            rows.append(f"| {LABELS[rule]} | {seed} | {int(r['epoch'].max())} | {r['test_acc'].iloc[-1]:.3f} | "
                        f"{r['test_acc'].tail(5).mean():.3f} | {int(best['epoch'])} ({best['test_acc']:.3f}) |")
    return "\n".join(rows)


def present(runs: Path, hw: str) -> list[str]:
    """The rules with a run folder ``<rule>_<hw>`` under ``runs`` (in table order)."""
    found = [r for r in RULES if (runs / f"{r}_{hw}").is_dir()]
    if not found:
        raise SystemExit(f"{runs}: no run folders <rule>_{hw}")
    return found


def rates(runs: Path, hw: str) -> str:
    """Per layer: spike rate, Psi ≠ 0 and the rule's own signal density, of each rule's network."""
    cols, frames = [], {}
    for rule in present(runs, hw):
        d = pd.read_csv(runs / f"{rule}_{hw}" / "densities.csv").set_index("layer")
        frames[rule] = d
        cols.append(rule)
    layers = list(frames[cols[0]].index)
    head = "| layer | " + " | ".join(f"{LABELS[r]}: rate / Psi≠0 / signal≠0" for r in cols) + " |"
    rows = [head, "|---|" + "---:|" * len(cols)]
    for layer in layers:
        cells = []
        for r in cols:
            x = frames[r].loc[layer]
            cells.append(f"{x['spike_rate']:.3f} / {x['psi']:.1%} / {x[f'{r}_signal']:.1%}")
        rows.append(f"| {layer} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def costs(runs: Path, hardware: list[str]) -> str:
    rows = ["| hardware | rule | cycles | energy, measured (µJ) | energy, dense bound (µJ) | measured / dense | "
            "learning ops, zeros skipped / executed |", "|---|---|---:|---:|---:|---:|---:|"]
    for hw in hardware:
        for rule in present(runs, hw):
            run = runs / f"{rule}_{hw}"
            s = pd.read_csv(run / "summary.csv").set_index("rule").loc[rule]
            e = pd.read_csv(run / "energy_dense_bound.csv")
            e = e[e["rule"] == rule].iloc[0]
            d = pd.read_csv(run / "densities.csv").set_index("layer").loc["all"]
            ops = d[f"{rule}_learning_ops"] / d[f"{rule}_learning_ops_dense"]
            rows.append(f"| {hw} | {LABELS[rule]} | {s['cycles']:,.0f} | {e['total'] / 1e6:,.0f} | "
                        f"{e['dense_total'] / 1e6:,.0f} | {e['total'] / e['dense_total']:.3f} | {ops:.1%} |")
    return "\n".join(rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", action="append", type=Path, help="a training.csv (repeatable)")
    ap.add_argument("--runs", type=Path, help="folder of the <rule>_<hardware> run folders")
    ap.add_argument("--hardware", action="append", help="hardware name (repeatable)")
    ap.add_argument("--log", action="append", metavar="SEED=FOLDER",
                    help="a training run's --out folder and its seed (repeatable): only the per-seed accuracy table")
    a = ap.parse_args(argv)
    if a.log:
        print(seeds(a.log))
        return
    if not (a.runs and a.hardware):
        ap.error("--runs and --hardware are required without --log")
    if a.train:
        print(accuracy(a.train), end="\n\n")
    print(rates(a.runs, a.hardware[0]), end="\n\n")
    print(costs(a.runs, a.hardware))


if __name__ == "__main__":
    main()
