"""The run summary as a printable table: metrics as rows, rules as columns, ratios to BPTT."""

from __future__ import annotations

import pandas as pd

from simulator.rules.program import PHASES

ROWS = [("paper_mac_M", "paper #MAC (M)"), ("paper_memory_MB", "paper memory (MB)"),
        ("full_memory_MB", "full memory (MB)")] + \
       [(f"ops_{p}", f"full ops {p} (M)") for p in PHASES] + \
       [("ops_learning", "full ops learning (M)"), ("ops_total", "full ops total (M)")]


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    return f"{x:,.2f}" if abs(x) >= 0.01 else f"{x:.3g}"


def summary_text(summary: pd.DataFrame) -> str:
    """Rules as columns; each cell ``value (ratio×BPTT)`` where BPTT is present."""
    cols = {}
    for rule, s in summary.iterrows():
        cells = []
        for key, _ in ROWS:
            v = s[key] / (1e6 if key.startswith("ops_") else 1.0)
            cell = _fmt(v)
            ratio = s.get(f"{key}_vs_bptt")
            if ratio is not None and pd.notna(ratio) and rule != "bptt":
                cell += f" ({ratio:.3g}×)"
            cells.append(cell)
        cols[s["label"]] = cells
    table = pd.DataFrame(cols, index=[label for _, label in ROWS])
    return table.to_string()
