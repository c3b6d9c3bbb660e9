"""The energy breakdown of a sweep: one bar group per swept point (a bar per rule), total energy
per sample on a log axis above and the share of each part (compute, SRAM, DRAM, …) below."""

from __future__ import annotations

from pathlib import PurePath

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tess_sim.reports.axes import FONT, RULE_STYLE, new_figure, set_log_ticks

PART_COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray"]


def setting_text(v) -> str:
    """A swept setting for a label: numbers compact (``0.25``, ``1024``), anything else as text."""
    return f"{v:g}" if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else str(v)


def short_setting(v) -> str:
    """:func:`setting_text`, with a file named by its stem (``hw/edge.yaml`` -> ``edge``)."""
    text = setting_text(v)
    return PurePath(text).stem if text.endswith((".yaml", ".yml", ".csv", ".npz")) else text


def point_label(row: pd.Series, keys: list[str]) -> str:
    """``T=4`` (one line per swept key, by the key's last part)."""
    return "\n".join(f"{k.split('.')[-1]}={short_setting(row[k])}" for k in keys)


def bar_layout(table: pd.DataFrame) -> tuple[list[str], list[str], dict[tuple[str, str], float]]:
    """(points in table order, rules present, x position of each (point, rule) bar)."""
    points = list(dict.fromkeys(table["point"]))
    rules = [r for r in RULE_STYLE if r in set(table["rule"])] + \
        [r for r in dict.fromkeys(table["rule"]) if r not in RULE_STYLE]
    step = len(rules) + 1  # a gap between groups
    x = {(p, r): i * step + j for i, p in enumerate(points) for j, r in enumerate(rules)}
    return points, rules, x


def breakdown_figure(table: pd.DataFrame, keys: list[str], parts: list[str], title: str,
                     total: str | None = None) -> Figure:
    """Every (point, rule) of ``table``: its total energy (``total`` column, else the sum of
    ``parts``; pJ, log axis) and the share of each ``energy_<part>_pJ`` column (%, stacked)."""
    points, rules, pos = bar_layout(table)
    d = table.set_index(["point", "rule"])
    unpriced = [p[len("energy_"):-len("_pJ")] for p in parts if not d[p].notna().any()]
    parts = [p for p in parts if d[p].notna().any()]
    n_bars = len(points) * (len(rules) + 1)
    W, H = min(max(8.0, 0.2 * n_bars + 2.6), 40.0), 5.6 + 0.18 * len(keys)
    firsts = {p: table[table["point"] == p].iloc[0] for p in points}
    labels = [point_label(firsts[p], keys) for p in points]
    widest = max((len(line) for lab in labels for line in lab.split("\n")), default=0)
    crowded = widest * len(points) > 11 * W  # more characters than one row of tick labels holds
    label_h = 0.35 + 0.2 * len(keys) + (0.06 * widest if crowded else 0.0)  # inches under the axes
    H += label_h - (0.35 + 0.2 * len(keys))
    fig = new_figure(W, H)
    top, bottom = fig.subplots(2, 1, sharex=True)
    fig.subplots_adjust(left=0.85 / W, right=1 - 1.45 / W, top=1 - 0.75 / H, bottom=label_h / H, hspace=0.12)
    width = 0.85
    tot = {}
    for (p, r), x in pos.items():
        if (p, r) not in d.index:
            continue
        row = d.loc[(p, r)]
        tot[(p, r)] = float(row[total]) if total and pd.notna(row[total]) else float(row[parts].fillna(0).sum())
    for r in rules:
        keys_r = [(p, r) for p in points if (p, r) in tot and tot[(p, r)] > 0]
        name, colour = RULE_STYLE.get(r, (r, "tab:gray"))
        top.bar([pos[k] for k in keys_r], [tot[k] for k in keys_r], width, color=colour, label=name)
    top.set_yscale("log")
    v = [t for t in tot.values() if t > 0]
    if v:
        top.set_ylim(min(v) / 3, max(v) * 2)
    set_log_ticks(top.yaxis)
    top.set_ylabel("energy per sample (pJ)", fontsize=FONT["label"])
    top.legend(fontsize=FONT["legend"] + 0.5, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    top.grid(True, axis="y", alpha=0.3)
    base = {k: 0.0 for k in tot}
    for i, part in enumerate(parts):
        ks = [k for k in tot if tot[k] > 0]
        share = [100 * float(np.nan_to_num(d.loc[k, part])) / tot[k] for k in ks]
        bottom.bar([pos[k] for k in ks], share, width, bottom=[base[k] for k in ks],
                   color=PART_COLOURS[i % len(PART_COLOURS)], label=part[len("energy_"):-len("_pJ")])
        for k, s in zip(ks, share):
            base[k] += s
    bottom.set_ylim(0, 100)
    bottom.set_ylabel("share of the total (%)", fontsize=FONT["label"])
    bottom.legend(fontsize=FONT["legend"] + 0.5, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0,
                  title="part" + (f"\n({', '.join(unpriced)}:\nnot priced)" if unpriced else ""),
                  title_fontsize=FONT["legend"] + 0.5)
    centres = [np.mean([pos[(p, r)] for r in rules]) for p in points]
    bottom.set_xticks(centres, labels, fontsize=FONT["tick"], rotation=35 if crowded else 0,
                      ha="right" if crowded else "center", rotation_mode="anchor")
    top.tick_params(labelsize=FONT["tick"])
    bottom.tick_params(axis="y", labelsize=FONT["tick"])
    top.tick_params(axis="x", which="both", labelbottom=False)
    order = ", ".join(RULE_STYLE.get(r, (r,))[0] for r in rules)
    fig.suptitle(f"{title}: energy per sample at each of the {len(points)} swept points\n"
                 f"(in each group: {order}, left to right, as coloured above)", fontsize=FONT["title"] + 1)
    return fig

