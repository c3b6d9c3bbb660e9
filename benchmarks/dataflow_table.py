"""The table of docs/simpy.md "Dataflows on the presets": each hardware preset × rule × schedule →
cycles, energy (the workload's first cost model in pJ, as µJ) and DRAM traffic per sample, from
the sweep.csv of

    tess-sim sweep workloads/dvs.yaml --engine simpy \\
        --set hardware=hw/edge.yaml,hw/edge_mapped.yaml,hw/sata.yaml,hw/odin.yaml,hw/reckon.yaml \\
        --set schedule=step_major,layer_major --out out/dataflow-dvs
    python benchmarks/dataflow_table.py out/dataflow-dvs/sweep.csv

A rule that cannot run the swept schedule (S-TLLR under layer_major) shows the schedule it ran.
"""

from __future__ import annotations

import sys

import pandas as pd


def table(sweep: pd.DataFrame) -> str:
    rows = ["| hardware | dataflow | rule | schedule run | cycles | energy (µJ) | DRAM (MB) | TESS / BPTT energy |",
            "|---|---|---|---|---:|---:|---:|---:|"]
    flows = {"edge": "event_driven", "odin": "event_driven", "reckon": "event_driven", "sata": "mapped",
             "edge_mapped": "mapped"}
    for (hw, sched), g in sweep.groupby(["hardware", "schedule"], sort=False):
        g = g.set_index("rule")
        name = str(hw).rsplit("/", 1)[-1].removesuffix(".yaml")
        ratio = g.loc["tess", "energy_pJ"] / g.loc["bptt", "energy_pJ"] if {"tess", "bptt"} <= set(g.index) else float("nan")
        for rule, r in g.iterrows():
            rows.append(f"| {name} | {flows.get(name, '?')} | {r['label']} | {r['schedule_used']} | "
                        f"{r['cycles']:,.0f} | {r['energy_pJ'] / 1e6:,.0f} | {r['dram_MB']:,.1f} | "
                        f"{ratio:.3f} |" if rule == "tess" else
                        f"| {name} | {flows.get(name, '?')} | {r['label']} | {r['schedule_used']} | "
                        f"{r['cycles']:,.0f} | {r['energy_pJ'] / 1e6:,.0f} | {r['dram_MB']:,.1f} | |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table(pd.read_csv(sys.argv[1])))
