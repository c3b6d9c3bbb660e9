"""The per-rule summary of a ledger: the figures ``tess-sim run`` prints (summary.csv).

Each column is one query over the ledger's rows of that rule; the rows' ``term`` column names the
formula each counts, and grepping the term in ``simulator/rules/`` finds the line that writes it
(the rule's own module, or the shared forward / traces / readout / update / state modules):

- ``paper_mac_M`` ("paper #MAC (M)") = Σ count / 10⁶ of the ``paper`` rows with unit ``pe``;
- ``ops_<phase>`` ("full ops <phase> (M)", printed / 10⁶) = Σ count of the ``full`` rows with
  unit ``pe`` and that phase, e.g. TESS's ``ops_wgrad`` = Σ over its ``full``/``pe``/``wgrad`` rows
  of the terms ``causal corr(tr_x, m·Psi)``, ``non-causal corr(x, m·tr_Psi)``, ``readout corr(h,
  dL/dy)`` and ``bias gradient``; ``ops_learning`` / ``ops_total`` = Σ of the learning / all phases;
- ``paper_memory_MB`` / ``full_memory_MB`` = Σ count·bits / 8 / 2^20 of the ``hold`` rows of that
  convention.
"""

from __future__ import annotations

import pandas as pd

from tess_sim.simulator.ledger import held, ops
from tess_sim.simulator.vocab import LEARNING_PHASES, MB, PHASES, RULE_LABELS

def summarize(ledger: pd.DataFrame, rules) -> pd.DataFrame:
    """One row per rule (``rules``: rule names or rule programs, in order): the time-step schedule
    it ran (``schedule_used``, and ``schedule_note``: why it is legal) and its ``update_policy``
    (named apart from the workload keys ``schedule`` and ``rules.<rule>.update`` a sweep varies), paper #MAC and memory, full ops per phase, full
    memory, ratios to BPTT.

    Units: ``*_M`` millions per sample, ``*_MB`` MiB (2^20 bytes), ``ops_*`` operations per sample.
    """
    rows = []
    for rule in rules:
        name = getattr(rule, "name", rule)
        lr = ledger[ledger["rule"] == name]
        paper, full = lr[lr["convention"] == "paper"], lr[lr["convention"] == "full"]
        fops = ops(full).groupby("phase")["count"].sum()
        row = {"rule": name, "label": RULE_LABELS[name],
               "schedule_used": getattr(rule, "schedule", "step_major"),
               "schedule_note": getattr(rule, "schedule_note", "step_major"),
               "update_policy": getattr(getattr(rule, "params", None), "update", "per_batch"),
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
