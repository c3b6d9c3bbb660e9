"""The run summary as a printable table: metrics as rows, rules as columns, ratios to BPTT.

The paper-convention rows (#MAC, memory) show four decimals, as ``tess-sim table paper`` does, so
their digits agree with the table and truncate to the published two-decimal cells (22.6953, not a
rounded 22.70 beside the paper's 22.69)."""

from __future__ import annotations

import pandas as pd

from tess_sim.simulator.vocab import PHASES

ROWS = [("paper_mac_M", "paper #MAC (M)"), ("paper_memory_MB", "paper memory (MB)"),
        ("full_memory_MB", "full memory (MB)")] + \
       [(f"ops_{p}", f"full ops {p} (M)") for p in PHASES] + \
       [("ops_learning", "full ops learning (M)"), ("ops_total", "full ops total (M)")]


PAPER_ROWS = {"paper_mac_M", "paper_memory_MB"}


def _fmt(x: float, decimals: int = 2) -> str:
    if x == 0:
        return "0"
    return f"{x:,.{decimals}f}" if abs(x) >= 0.01 else f"{x:.3g}"


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Rules (labels) as columns, the metrics of ``ROWS`` as the index; each cell
    ``value (ratio×BPTT)`` where BPTT is present (ops in millions)."""
    cols = {}
    for rule, s in summary.iterrows():
        cells = []
        for key, _ in ROWS:
            v = s[key] / (1e6 if key.startswith("ops_") else 1.0)
            cell = _fmt(v, 4 if key in PAPER_ROWS else 2)
            ratio = s.get(f"{key}_vs_bptt")
            if ratio is not None and pd.notna(ratio) and rule != "bptt":
                cell += f" ({ratio:.3g}×)"
            cells.append(cell)
        cols[s["label"]] = cells
    return pd.DataFrame(cols, index=[label for _, label in ROWS])


def summary_text(summary: pd.DataFrame) -> str:
    """:func:`summary_table` as printable text."""
    return summary_table(summary).to_string()


def schedule_text(summary: pd.DataFrame) -> str:
    """One line per rule: its time-step schedule, why it is legal, and its update policy."""
    lines = ["schedule and update policy (docs/dataflow.md):"]
    for _, s in summary.iterrows():
        lines.append(f"  {s['label']:7s} {s['schedule_note']}; update {s['update_policy']}")
    return "\n".join(lines)
