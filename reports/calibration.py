"""The ReckOn comparison: our energy per synaptic operation (SOP) next to ReckOn's published
5.3 pJ/SOP at 0.5 V, per cost model, with the split that explains the difference.

Figures per model (pJ per SOP; SOP = forward synaptic operations, AC + MAC, per sample):

- ``inference``: dynamic energy of the fwd and neuron phases only;
- ``learning``: dynamic energy of the learning phases (trace, lsg, bwd, wgrad, update);
- ``dynamic``: their sum — compared with the published figure (``ratio = dynamic / 5.3``);
- ``leakage``: leakage per SOP when the model prices it, over the stated time basis (shown
  apart: it depends on the clock and on the leakage table's process corner, see the notes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tess_sim.cost_models.anchors import RECKON
from tess_sim.simulator.vocab import INFERENCE_PHASES

INFERENCE = INFERENCE_PHASES

#: What makes a workload ReckOn-like, i.e. comparable with ReckOn's published pJ/SOP (the checks of
#: :func:`not_reckon_like`; workloads/reckon.yaml is the shipped one).
RECKON_LIKE = ("its hardware is the ReckOn preset (hardware name 'reckon', workloads/hw/reckon.yaml: 8-bit "
               "weights, 16-bit membranes, 12-bit traces, 138 kB SRAM); its network is ReckOn's one layer of "
               "LIF neurons: a 1-D input, one linear layer, the readout; the compared rule is e-prop as S-TLLR "
               "(alpha_post = 0, window = 1); every cost model prices energy in pJ (not 'counts')")


def not_reckon_like(wl, rule: str) -> list[str]:
    """Why the workload ``wl`` (with ``rule`` compared) is not ReckOn-like; empty when it is."""
    why = []
    if wl.hardware.name != "reckon":
        why.append(f"its hardware is '{wl.hardware.name}', not the ReckOn preset (hardware: hw/reckon.yaml)")
    kinds = [layer.type for layer in wl.network.layers]
    if len(wl.input.shape) != 1 or kinds != ["linear", "readout"]:
        shown = " → ".join(kinds) if len(kinds) <= 4 else f"{len(kinds)} layers, {kinds[0]} first"
        why.append(f"its network ({shown} on a {len(wl.input.shape)}-D input) is not ReckOn's "
                   "one LIF layer (linear → readout on a 1-D input)")
    params = wl.rules.enabled().get(rule)
    if rule != "stllr" or params is None or params.alpha_post != 0 or params.window != 1:
        why.append(f"the compared rule '{rule}' is not e-prop as S-TLLR (rule stllr with alpha_post: 0, window: 1)")
    return why


def reckon_table(report, rule: str) -> pd.DataFrame:
    """One row per cost model for ``rule``: SOPs, inference / learning / dynamic / leakage pJ per
    SOP, the published figure and the ratio dynamic / published."""
    rows = []
    for p in report.priced:
        label = p.model.get("label", p.model["name"])
        s = report.summary[(report.summary["model"] == label) & (report.summary["rule"] == rule)].iloc[0]
        r = p.rows[p.rows["rule"] == rule]
        sops = s["sops"]
        inf = r[r["phase"].isin(INFERENCE)]["energy"].sum() / sops
        dyn = s["dynamic"] / sops
        leak = s["leakage"] / sops if not np.isnan(s["leakage"]) else np.nan
        rows.append({"model": label, "unit": p.unit, "params": p.model.get("params", {}), "sops": sops,
                     "inference_pj_per_sop": inf, "learning_pj_per_sop": dyn - inf, "dynamic_pj_per_sop": dyn,
                     "leakage_pj_per_sop": leak, "leakage_basis": s["leakage_basis"], "seconds": s["seconds"],
                     "sram_share": s["sram"] / s["dynamic"], "dram_share": s["dram"] / s["dynamic"],
                     "compute_share": s["compute"] / s["dynamic"],
                     "published_pj_per_sop": RECKON["pj_per_sop"], "ratio": dyn / RECKON["pj_per_sop"]})
    return pd.DataFrame(rows)


NOTES = [
    "network: tess-sim has no recurrent layer; ReckOn's 256 recurrent synapses per neuron are a second "
    "bank of 256 inputs (same synapse count and weight memory), firing at the input rate",
    "rule: e-prop modelled by S-TLLR with alpha_post = 0 (presynaptic trace × Psi) and window 1 "
    "(one weight update from the traces at the end of the sample); our rules also accumulate a "
    "per-weight 16-bit gradient in learn_sram, which ReckOn does not have",
    "technology: horowitz45 is 45 nm (cache-like SRAM reads) and cacti28 28 nm (CACTI scratch RAM at "
    "360 K); both scale dynamic energy by (vdd/0.9)² to 0.5 V (named parameter vdd) — no other "
    "calibration constant",
    "not priced by any model: clock tree, control, AER spike decoding and routing, which the chip's "
    "measured figure includes",
    "SOP: ours counts the forward synaptic operations; ReckOn's figure is measured on silicon (its "
    "split into dynamic and leakage is not in docs/energy.md), so we compare the dynamic energy",
]


def reckon_text(table: pd.DataFrame, rule_label: str, workload: str, activity: str, hw) -> str:
    """The comparison as text: the table, then why the figures differ (``hw``: the Hardware)."""
    head = [f"ReckOn calibration — {workload}, rule {rule_label}, activity {activity}",
            f"published: {RECKON['pj_per_sop']} pJ/SOP at {RECKON['vdd']} V, {RECKON['node']} "
            f"({RECKON['source']})"]
    show = pd.DataFrame({
        "ours dynamic pJ/SOP": table["dynamic_pj_per_sop"].map(lambda v: f"{v:.3g}"),
        "inference": table["inference_pj_per_sop"].map(lambda v: f"{v:.3g}"),
        "learning": table["learning_pj_per_sop"].map(lambda v: f"{v:.3g}"),
        "published": table["published_pj_per_sop"].map(lambda v: f"{v:g}"),
        "ours/published": table["ratio"].map(lambda v: f"{v:.3g}×"),
        "SRAM/DRAM/compute %": [f"{100 * a:.0f}/{100 * b:.0f}/{100 * c:.0f}" for a, b, c in
                                zip(table["sram_share"], table["dram_share"], table["compute_share"])],
        "leakage pJ/SOP": [("not priced" if np.isnan(v) else f"{v:.3g} ({'estimate' if b.startswith('estimate') else b}"
                            f", {s * 1e3:.3g} ms)") for v, b, s in
                           zip(table["leakage_pj_per_sop"], table["leakage_basis"], table["seconds"])],
    })
    show.index = table["model"]
    lines = head + [show.to_string(), "why they differ:"] + [f"- {n}" for n in NOTES]
    if table["leakage_pj_per_sop"].notna().any():
        basis = str(table.loc[table["leakage_pj_per_sop"].notna(), "leakage_basis"].iloc[0])
        time = ("the simulated time per sample (SimPy engine)" if basis.startswith("simulated") else
                "the cycle estimate ops / (pe.units × cores) / clock")
        lines.append(f"- leakage: CACTI's 360 K leakage of every SRAM over {time} ({hw.pe.units} PE × "
                     f"{hw.cores} core at {hw.clock_mhz:g} MHz, an assumption of the hardware file) dwarfs ReckOn's "
                     "low-voltage FDSOI leakage; it is shown, not added to the compared figure")
    return "\n".join(lines)
