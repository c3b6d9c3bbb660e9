"""The tables of a run folder for the report page, as formatted strings: the timing headline, the
cycles per phase and per layer, the memories and stalls (``timing.csv``, SimPy engine), the
placement of every buffer (``placement.csv``) and the energy blocks (``energy.csv``,
``energy_breakdown.csv``, ``results.json``), each with the rules as columns."""

from __future__ import annotations

import pandas as pd

from tess_sim.reports.energy import model_table
from tess_sim.reports.format import NA, missing, number, percent
from tess_sim.simulator.vocab import MB


def _labels(summary: pd.DataFrame) -> dict[str, str]:
    return summary["label"].to_dict()


def timing_headline(summary: pd.DataFrame) -> pd.DataFrame:
    """Cycles, latency, PE utilisation, DRAM traffic, spills and the largest T whose BPTT history
    fits on chip, per rule (the lines ``tess-sim run`` prints after the summary)."""
    lab = _labels(summary)

    def t_max(v):
        if missing(v):
            return NA
        return f"{int(v):,}" if v >= 1 else "does not fit even at T = 1"

    rows = {"cycles per sample": [number(summary.loc[r, "cycles"]) for r in lab],
            "latency per sample (ms)": [f"{summary.loc[r, 'latency_ms']:,.3f}" for r in lab],
            "PE utilisation": [percent(summary.loc[r, "pe_utilisation"]) for r in lab],
            "DRAM traffic (MB read + written)": [f"{summary.loc[r, 'dram_MB']:,.2f}" for r in lab],
            "spilled buffers": [str(summary.loc[r, "spills"]).replace("; ", "\n") for r in lab]}
    if "history_max_T" in summary:
        rows["history fits on chip up to T"] = [t_max(summary.loc[r, "history_max_T"]) for r in lab]
    return _frame(rows, lab)


def _frame(rows: dict[str, list[str]], lab: dict[str, str], first: str = "metric") -> pd.DataFrame:
    out = pd.DataFrame(rows, index=list(lab.values())).T
    return out.reset_index(names=first)


def _pivot(timing: pd.DataFrame, scope: str, metric: str, lab: dict[str, str]) -> pd.DataFrame:
    t = timing[(timing["scope"] == scope) & (timing["metric"] == metric)]
    p = t.pivot_table(index="name", columns="rule", values="value", aggfunc="sum", sort=False)
    return p.reindex(columns=[r for r in lab if r in p.columns])


def cycles_table(timing: pd.DataFrame, summary: pd.DataFrame, scope: str) -> pd.DataFrame:
    """Cycles per sample of each ``phase`` or ``layer`` per rule, with its share of the rule's
    sample cycles; a layer's core when the run has more than one."""
    lab = _labels(summary)
    p = _pivot(timing, scope, "cycles", lab)
    total = _pivot(timing, "sample", "cycles", lab).iloc[0]
    cores = _pivot(timing, "layer", "core", lab) if scope == "layer" else None
    multi = cores is not None and len(cores) > 0 and cores.stack().nunique() > 1
    out = pd.DataFrame({scope: list(p.index)})
    for r in p.columns:
        cells = []
        for name, v in p[r].items():
            cell = NA if missing(v) else f"{number(v)} ({percent(v / total[r])})"
            if multi and not missing(cores.loc[name, r]):
                cell += f", core {int(cores.loc[name, r])}"
            cells.append(cell)
        out[lab[r]] = cells
    return out


def memory_table(timing: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Per memory: MB read, MB written, peak MB held, port utilisation; rules as columns."""
    lab = _labels(summary)
    rows = []
    read, write = _pivot(timing, "memory", "read_bits", lab), _pivot(timing, "memory", "write_bits", lab)
    peak, port = _pivot(timing, "memory", "peak_bytes", lab), _pivot(timing, "port", "utilisation", lab)
    for m in read.index:
        for what, frame, fmt in (("read (MB)", read, lambda v: number(v / 8 / MB)),
                                 ("written (MB)", write, lambda v: number(v / 8 / MB)),
                                 ("peak held (MB)", peak, lambda v: number(v / MB)),
                                 ("port utilisation", port, percent)):
            if m in frame.index:
                rows.append([m, what] + [NA if missing(frame.loc[m, r]) else fmt(frame.loc[m, r])
                                         for r in frame.columns])
    return pd.DataFrame(rows, columns=["memory", "metric"] + [lab[r] for r in read.columns])


def stall_table(timing: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Stall cycles per cause (rules as columns); causes that never stall are left out."""
    lab = _labels(summary)
    p = _pivot(timing, "stall", "cycles", lab)
    p = p[(p.fillna(0) > 0).any(axis=1)]
    out = pd.DataFrame({"stall cause": list(p.index)})
    for r in p.columns:
        out[lab[r]] = [number(v) for v in p[r]]
    return out


def placement_table(placement: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Every buffer of every rule: its memory, size, the part on chip and the part spilled (MB)."""
    lab = _labels(summary)
    mb = lambda v: number(v / MB) if not missing(v) else NA  # noqa: E731
    return pd.DataFrame({
        "rule": [lab.get(r, r) for r in placement["rule"]], "buffer": placement["unit"],
        "memory": placement["memory"], "size (MB)": placement["bytes"].map(mb),
        "on chip (MB)": placement["on_chip_bytes"].map(mb), "spilled (MB)": placement["spilled_bytes"].map(mb),
        "spilled to": placement["spill_memory"].map(lambda v: NA if missing(v) or v == "" else str(v))})


def energy_tables(models: list[dict], energy: pd.DataFrame, breakdown: pd.DataFrame) -> list:
    """Per cost model: its heading lines and its table (total, split, per SOP, per phase, per
    layer, per buffer), as ``tess-sim run`` prints them."""
    blocks: list = []
    for m in models:
        name = m.get("label", m["name"])
        lines, table = model_table(m, energy[energy["model"] == name], breakdown[breakdown["model"] == name])
        table = table.reset_index(names="per sample")
        table["per sample"] = table["per sample"].str.strip()
        blocks += [lines, table]
    return blocks
