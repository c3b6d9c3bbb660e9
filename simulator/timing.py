"""Headline timing figures per rule from the SimPy engine's timing table and placement."""

from __future__ import annotations

import pandas as pd

from tess_sim.simulator.spills import history_max_T, spill_note
from tess_sim.simulator.vocab import MB
from tess_sim.simulator.workload import Hardware

HEADLINE = ["cycles", "latency_ms", "pe_utilisation", "dram_MB", "spills", "history_max_T"]


def metric(timing: pd.DataFrame, rule: str, scope: str, metric: str, name: str | None = None) -> pd.Series:
    """Values of one metric of a rule, indexed by name."""
    t = timing[(timing["rule"] == rule) & (timing["scope"] == scope) & (timing["metric"] == metric)]
    if name is not None:
        t = t[t["name"] == name]
    return t.set_index("name")["value"]


def headline(timing: pd.DataFrame, placement: pd.DataFrame, hw: Hardware, T: int) -> pd.DataFrame:
    """One row per rule: cycles and latency per sample, mean PE utilisation over cores, DRAM
    traffic (MiB read + written per sample), the spilled buffers, and (BPTT) the largest T whose
    history fits on chip."""
    rows = {}
    drams = {m.name for m in hw.memories if m.kind == "dram"}
    for rule in timing["rule"].unique():
        cyc = float(metric(timing, rule, "sample", "cycles").iloc[0])
        mem = timing[(timing["rule"] == rule) & (timing["scope"] == "memory")
                     & timing["metric"].isin(["read_bits", "write_bits"]) & timing["name"].isin(drams)]
        rows[rule] = {"cycles": cyc, "latency_ms": cyc / hw.clock_mhz / 1e3,
                      "pe_utilisation": float(metric(timing, rule, "core", "pe_utilisation").mean()),
                      "dram_MB": float(mem["value"].sum()) / 8 / MB,
                      "spills": spill_note(placement, rule),
                      "history_max_T": history_max_T(placement, hw, T, rule)}
    return pd.DataFrame.from_dict(rows, orient="index")[HEADLINE]


def headline_text(summary: pd.DataFrame, hw: Hardware) -> str:
    """Printable headline lines, one block per rule."""
    lines = [f"timing on {hw.name} ({hw.cores} core{'s' if hw.cores > 1 else ''}, {hw.pe.units} PEs/core, "
             f"{hw.clock_mhz:g} MHz), per sample:"]
    for rule, s in summary.iterrows():
        line = (f"  {s['label']:7s} {s['cycles']:,.0f} cycles = {s['latency_ms']:,.3f} ms, "
                f"PE utilisation {s['pe_utilisation']:.1%}, DRAM traffic {s['dram_MB']:,.2f} MB")
        lines.append(line)
        lines.append(f"          spills: {s['spills']}")
        t_max = s.get("history_max_T")
        if t_max is not None and pd.notna(t_max):
            lines.append(f"          history fits on chip up to T = {int(t_max)}" if t_max >= 1 else
                         "          history does not fit on chip even at T = 1 (the buffers placed before it "
                         "fill its memory)")
    return "\n".join(lines)
