"""The per-rule summary of a ledger: the figures ``tess-sim run`` prints (summary.csv).

Each column is one query over ledger rows (the ``term`` column then names the formula, and the
rule's module the line that wrote it): ``paper_mac_M`` = Σ count of the paper convention's op rows;
``ops_<phase>`` = Σ count of the full convention's op rows of that phase; ``*_memory_MB`` =
Σ count·bits/8 of the hold rows.
"""

from __future__ import annotations

import pandas as pd

from tess_sim.simulator.ledger import held, ops
from tess_sim.simulator.vocab import LEARNING_PHASES, PHASES, RULE_LABELS

MB = 2 ** 20  # bytes in a MiB: *_MB columns are MiB


def summarize(ledger: pd.DataFrame, rules) -> pd.DataFrame:
    """One row per rule (``rules``: rule names or rule programs, in order): paper #MAC and memory,
    full ops per phase, full memory, ratios to BPTT.

    Units: ``*_M`` millions per sample, ``*_MB`` MiB (2^20 bytes), ``ops_*`` operations per sample.
    """
    rows = []
    for name in (getattr(r, "name", r) for r in rules):
        lr = ledger[ledger["rule"] == name]
        paper, full = lr[lr["convention"] == "paper"], lr[lr["convention"] == "full"]
        fops = ops(full).groupby("phase")["count"].sum()
        row = {"rule": name, "label": RULE_LABELS[name],
               "paper_mac_M": ops(paper)["count"].sum() / 1e6,
               "paper_memory_MB": (held(paper)["count"] * held(paper)["bits"]).sum() / 8 / MB,
               "full_memory_MB": (held(full)["count"] * held(full)["bits"]).sum() / 8 / MB}
        for phase in PHASES:
            row[f"ops_{phase}"] = float(fops.get(phase, 0.0))
        row["ops_learning"] = sum(row[f"ops_{p}"] for p in LEARNING_PHASES)
        row["ops_total"] = sum(row[f"ops_{p}"] for p in PHASES)
        rows.append(row)
    df = pd.DataFrame(rows).set_index("rule")
    if "bptt" in df.index:
        for col in ("paper_mac_M", "paper_memory_MB", "full_memory_MB", "ops_learning", "ops_total"):
            df[f"{col}_vs_bptt"] = df[col] / df.loc["bptt", col]
    return df
