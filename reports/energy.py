"""The energy summary as printable text: one block per cost model, rules as columns.

Each block: total per sample (and ratio to BPTT), its split into compute, SRAM, DRAM and leakage
(share of the total), energy per synaptic operation, then the split per phase, per layer and per
buffer kind. Energy models print µJ (10^6 pJ) and pJ/SOP; the counts model prints millions of
actions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tess_sim.simulator.vocab import RULE_LABELS
LABELS = RULE_LABELS


def _num(x: float) -> str:
    if x == 0:
        return "0"
    return f"{x:,.2f}" if abs(x) >= 0.01 else f"{x:.3g}"


def _params(model: dict) -> str:
    p = {k: v for k, v in model.get("params", {}).items() if v is not None}
    return ", ".join(f"{k}={round(v, 4) if isinstance(v, float) else v}" for k, v in p.items()) or "none"


def model_table(model: dict, summary: pd.DataFrame, bd: pd.DataFrame) -> tuple[list[str], pd.DataFrame]:
    """(heading lines, table) of one model (``summary`` and ``bd`` already restricted to it): the
    table has the rules (labels) as columns and the rows of :func:`model_text` as its index."""
    energy = model["unit"] == "pJ"
    scale, unit = (1e6, "µJ") if energy else (1e6, "M actions")
    rules = list(summary["rule"])
    s = summary.set_index("rule")
    cols: dict[str, list[str]] = {LABELS.get(r, r): [] for r in rules}
    index: list[str] = []

    def add(label: str, values: dict[str, float], share: bool = False, ratio: bool = False):
        index.append(label)
        for r in rules:
            v = values.get(r, 0.0)
            if v is None or (isinstance(v, float) and np.isnan(v)):
                cell = "not priced"
            else:
                cell = _num(v / scale)
                if share and s.loc[r, "total"]:
                    cell += f" ({100 * v / s.loc[r, 'total']:.1f}%)"
                if ratio and r != "bptt" and not np.isnan(s.loc[r, "total_vs_bptt"]):
                    cell += f" ({s.loc[r, 'total_vs_bptt']:.3g}×)"
            cols[LABELS.get(r, r)].append(cell)

    add(f"total ({unit})", s["total"].to_dict(), ratio=True)
    add("  compute", s["compute"].to_dict(), share=True)
    add("  SRAM", s["sram"].to_dict(), share=True)
    add("  DRAM", s["dram"].to_dict(), share=True)
    if energy:
        add("  leakage", s["leakage"].to_dict(), share=True)
    index.append(f"per SOP ({'pJ' if energy else 'actions'})")
    for r in rules:
        cols[LABELS.get(r, r)].append(_num(s.loc[r, "per_sop"]) if not np.isnan(s.loc[r, "per_sop"]) else "-")
    for by, title in (("phase", "phase"), ("layer", "layer"), ("buffer", "buffer")):
        part = bd[(bd["by"] == by) & (bd["part"] != "leakage")]
        for name in dict.fromkeys(part["part"]):
            vals = part[part["part"] == name].set_index("rule")["energy"].to_dict()
            add(f"  {title} {name}", vals, share=True)
    table = pd.DataFrame(cols, index=index)
    basis = summary["leakage_basis"].iloc[0]
    if not energy:
        leak = "leakage: not priced (counts model)"
    elif summary["leakage"].isna().all() and str(basis).startswith("not priced"):
        leak = f"leakage: not priced ({basis.split(': ', 1)[-1]})"  # the engine gave no time per sample
    elif summary["leakage"].isna().all():
        leak = f"leakage: not priced ({model['name']} gives no leakage power)"
    else:
        secs = ", ".join(f"{LABELS.get(r, r)} {s.loc[r, 'seconds'] * 1e6:,.1f} µs" for r in rules)
        leak = f"leakage over time per sample from {basis}: {secs}"
    head = (f"{'energy' if energy else 'actions'} per sample — cost model {model.get('label', model['name'])} "
            f"({model.get('description') or model['class']}); parameters: {_params(model)}")
    area = model.get("area_mm2")
    area_line = (f"area of the memories (× cores): {area:.4g} mm²" if area is not None
                 else f"area: not priced ({model['name']} gives no area)")
    return [head, leak, area_line, "SOP = forward synaptic operations (AC + MAC); (%) = share of the total"], table


def model_text(model: dict, summary: pd.DataFrame, bd: pd.DataFrame) -> str:
    """The printable block of one model (``summary`` and ``bd`` already restricted to it)."""
    lines, table = model_table(model, summary, bd)
    return "\n".join(lines + [table.to_string()])


def energy_text(report) -> str:
    """Every model's block, in the order given."""
    blocks = []
    for m in report.models:
        name = m.get("label", m["name"])
        blocks.append(model_text(m, report.summary[report.summary["model"] == name],
                                 report.breakdown[report.breakdown["model"] == name]))
    return "\n\n".join(blocks)
