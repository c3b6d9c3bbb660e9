"""The report page of a run folder (``results.json``) or a sweep folder (``sweep.json``):
a self-contained HTML file (figures embedded as data URIs, inline CSS, no scripts, no external
fonts) and a Markdown file (figures linked as the PNG files beside it).

Sections: what was run, the headline numbers, the tables, the plots.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tess_sim.simulator.errors import UserError
from tess_sim.reports.neurobench import neurobench_display
from tess_sim.reports.densities import BOUND_NOTE, DENSITY_NOTE, dense_bound_display, density_display
from tess_sim.reports.format import number, percent, ratio
from tess_sim.reports.run_tables import (cycles_table, energy_tables, memory_table, placement_table, stall_table,
                                         timing_headline)
from tess_sim.reports.summary import summary_table
from tess_sim.reports.sweep_table import COST_PANELS, energy_total_column, latency_column, latency_label, sweep_slopes

CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1200px;padding:0 1em;color:#222}table{border-collapse:collapse;font-size:13px}
.wide{overflow-x:auto;max-width:100%;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;vertical-align:top}td{white-space:pre}
th{background:#f3f3f3;position:sticky;top:0}td.t,th.t{text-align:left}
img{max-width:100%;border:1px solid #eee}code{background:#f6f6f6;padding:1px 4px}h1{font-size:1.6em}
h2{border-bottom:1px solid #ddd}h3{font-size:1.05em;margin-bottom:.2em}p.note{color:#555;font-size:13px}"""
# sweep.csv column -> (header, scale): the columns the sweep page shows (all are in sweep.csv)
SWEEP_COLUMNS = {"label": ("rule", None), "paper_mac_M": ("paper #MAC (M)", 1), "paper_memory_MB": ("paper memory (MB)", 1),
                 "full_memory_MB": ("full memory (MB)", 1), "paper_mac_per_step_M": ("paper #MAC per step (M)", 1),
                 "ops_learning": ("learning ops (M)", 1e-6), "ops_total": ("total ops (M)", 1e-6),
                 "energy_pJ": ("energy (µJ)", 1e-6), "energy_total_pJ": ("energy (µJ)", 1e-6),
                 "cycles": ("cycles", 1), "latency_ms": ("latency (ms)", 1), "pe_utilisation": ("PE utilisation", "%"),
                 "dram_MB": ("DRAM traffic (MB)", 1)}


@dataclass
class Page:
    """A report as sections of (heading, blocks); a block is text, a table or a figure file."""

    title: str
    sections: list[tuple[str, list]] = field(default_factory=list)

    def html(self, folder: Path) -> str:
        out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(self.title)}"
               f"</title><style>{CSS}</style></head><body><h1>{html.escape(self.title)}</h1>"]
        for heading, blocks in self.sections:
            out.append(f"<h2>{html.escape(heading)}</h2>")
            for b in blocks:
                if isinstance(b, Sub):
                    out.append(f"<h3>{html.escape(b.text)}</h3>")
                elif isinstance(b, pd.DataFrame):
                    out.append(_html_table(b))
                elif isinstance(b, Path):
                    data = base64.b64encode((folder / b).read_bytes()).decode()
                    out.append(f"<p><img alt='{html.escape(b.stem)}' src='data:image/png;base64,{data}'></p>")
                elif isinstance(b, list):
                    out.append("<ul>" + "".join(f"<li>{html.escape(str(x))}</li>" for x in b) + "</ul>")
                else:
                    out.append(f"<p>{html.escape(str(b))}</p>")
        out.append("</body></html>")
        return "\n".join(out)

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for heading, blocks in self.sections:
            out += [f"## {heading}", ""]
            for b in blocks:
                if isinstance(b, Sub):
                    out.append(f"### {b.text}")
                elif isinstance(b, pd.DataFrame):
                    out.append(_md_table(b))
                elif isinstance(b, Path):
                    out.append(f"![{b.stem}]({b.as_posix()})")
                elif isinstance(b, list):
                    out += [f"- {x}" for x in b]
                else:
                    out.append(str(b))
                out.append("")
        return "\n".join(out)


@dataclass
class Sub:
    """A sub-heading inside a section."""

    text: str


def _is_text(v: str) -> bool:
    """Left-align a cell that is words, not a number (``3,011 (17.2%)`` is a number)."""
    return not re.match(r"^[-−+]?[\d,.]+(×10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?(%|×)?( \(.*\))?(, core \d+)?$|^—$|^10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+$",
                        v.strip())


def _html_table(df: pd.DataFrame) -> str:
    """A table of strings, in its own horizontally scrolling box (wide tables never push the
    page wider); a column of text left-aligned, a column of numbers right-aligned."""
    cells = [[number(v) for v in row] for row in df.itertuples(index=False)]
    text = [[_is_text(c) for c in row] for row in cells]
    left = [sum(col) * 2 >= len(col) if col else True for col in zip(*text)] or [True] * len(df.columns)
    cls = lambda t: " class='t'" if t else ""  # noqa: E731
    head = "".join(f"<th{cls(t)}>{html.escape(str(c))}</th>" for c, t in zip(df.columns, left))
    rows = ["<tr>" + "".join(f"<td{cls(t)}>{html.escape(c)}</td>" for c, t in zip(row, left)) + "</tr>"
            for row in cells]
    return f"<div class='wide'><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"


def _md_table(df: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(number(v).replace("|", "\\|").replace("\n", "<br>") for v in row) + " |"
              for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _figures(folder: Path) -> list[Path]:
    """The PNG figures beside the report, by name."""
    return [Path(p.name) for p in sorted(folder.glob("*.png"))]


def _headline(summary: pd.DataFrame) -> list[str]:
    heads = []
    if "bptt" in summary.index:
        for rule, s in summary.drop(index="bptt").iterrows():
            heads.append(f"{s['label']}: paper #MAC {s['paper_mac_M']:,.4f} M ({ratio(s['paper_mac_M_vs_bptt'])} BPTT), "
                         f"paper memory {s['paper_memory_MB']:,.4f} MB ({ratio(s['paper_memory_MB_vs_bptt'])}), "
                         f"full memory {s['full_memory_MB']:,.2f} MB ({ratio(s['full_memory_MB_vs_bptt'])}), "
                         f"learning ops {s['ops_learning'] / 1e6:,.2f} M ({ratio(s['ops_learning_vs_bptt'])})")
    if "cycles" in summary:
        heads += [f"{s['label']}: {s['cycles']:,.0f} cycles = {s['latency_ms']:,.3f} ms per sample, "
                  f"PE utilisation {percent(s['pe_utilisation'])}" for _, s in summary.iterrows()]
    return heads


def run_page(folder: Path) -> Page:
    """The page of a ``tess-sim run`` output folder: what ``tess-sim run`` prints (the summary
    with its ops per phase, the timing headline, cycles per phase and per layer, memories,
    stalls, the placement, the energy per phase / layer / buffer of every cost model) as tables."""
    res = json.loads((folder / "results.json").read_text())
    wl, summary = res["workload"], pd.read_csv(folder / "summary.csv", index_col="rule")
    i = wl["input"]
    page = Page(f"tess-sim run: {wl.get('dataset') or wl['name']} ({wl['name']})")
    page.sections.append(("What was run", [[
        f"workload: {res.get('source') or wl['name']}", f"engine: {res['engine']}, tess-sim {res['version']}",
        f"input {i['shape']}, T = {i['T']}, {i['classes']} classes, batch {i['batch']}, encoding {i['encoding']}",
        f"rules: {', '.join(summary['label'])}", f"hardware: {wl['hardware']['name']}",
        f"activity: {res['activity']['description']}"]]))
    page.sections.append(("Headline numbers", ["Per sample; MB = 2^20 bytes; (×) = ratio to BPTT.", _headline(summary)]))
    if (folder / "densities.csv").exists():
        page.sections.append(("Spike rates and learning-operand densities per layer", [
            DENSITY_NOTE + ".", density_display(pd.read_csv(folder / "densities.csv"))]))
    page.sections.append(("Summary per sample", [
        "MB = 2^20 bytes; full memory at the hardware's bit widths; ops in millions; (×) = ratio to BPTT; "
        "the paper rows at four decimals, as tess-sim table paper prints them.",
        summary_table(summary).reset_index(names="metric (per phase: full convention)")]))
    if (folder / "neurobench.csv").exists():
        page.sections.append(("NeuroBench metrics of the forward pass, per sample", [
            "Under NeuroBench's names and definitions (docs/neurobench.md); every rule runs the same forward "
            "pass. Effective_ACs + Effective_MACs are the ledger's forward synaptic ops.",
            neurobench_display(pd.read_csv(folder / "neurobench.csv"))]))
    timing = folder / "timing.csv"
    if timing.exists() and "cycles" in summary:
        t = pd.read_csv(timing)
        hw = wl["hardware"]
        cores = f"{hw['cores']} core{'s' if hw['cores'] > 1 else ''}"
        pe = hw["pe"]  # a mapped array's dump gives its shape, not the derived units
        units = pe["units"] if "units" in pe else pe["array"][0] * pe["array"][1]
        page.sections.append((f"Timing on {hw['name']} ({cores}, {units} PEs per core, "
                              f"{hw['clock_mhz']:g} MHz), per sample", [
            timing_headline(summary), Sub("Cycles per phase (share of the sample's cycles)"),
            cycles_table(t, summary, "phase"), Sub("Cycles per layer (share of the sample's cycles)"),
            cycles_table(t, summary, "layer"), Sub("Memories"), memory_table(t, summary),
            Sub("Stalls (cycles)"), stall_table(t, summary)]))
    if (folder / "placement.csv").exists():
        page.sections.append(("Placement of the buffers", [
            "Where each buffer is placed; the part that does not fit is spilled (MB = 2^20 bytes).",
            placement_table(pd.read_csv(folder / "placement.csv"), summary)]))
    models = res.get("cost_models") or []
    if models and (folder / "energy.csv").exists() and (folder / "energy_breakdown.csv").exists():
        blocks = energy_tables(models, pd.read_csv(folder / "energy.csv"), pd.read_csv(folder / "energy_breakdown.csv"))
        if (folder / "energy_dense_bound.csv").exists():
            blocks.append(Sub("At this activity and under the dense bound"))
            blocks.append(BOUND_NOTE + ".")
            for head, table in dense_bound_display(pd.read_csv(folder / "energy_dense_bound.csv")):
                blocks += [Sub(head), table.reset_index(names="rule")]
        page.sections.append(("Energy per sample, per cost model", blocks))
    page.sections.append(("Plots", _figures(folder) or ["(no plots)"]))
    return page


def metric_label(col: str) -> str:
    """A sweep.csv cost column in words: ``ops_bwd`` -> ``ops of phase bwd (full convention)``."""
    names = dict(COST_PANELS) | {"paper_mac_per_step_M": "learning MACs per step, paper convention (M)",
                                 "ops_total": "total ops, full convention (ops)"}
    if col in names:
        return names[col]
    if col.startswith("ops_"):
        return f"ops of phase {col[4:]}, full convention (ops)"
    if col == energy_total_column(pd.DataFrame(columns=[col])):
        return "energy per sample (pJ)"
    if col == latency_column(pd.DataFrame(columns=[col])):
        return latency_label(col)
    return col


def slope_table(slopes: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The slopes (columns rule, metric, slope) with one column per rule (its label) and one row
    per metric; "—" where a rule has no such cost."""
    labels = dict(zip(table["rule"], table["label"])) if "label" in table else {}
    wide = slopes.pivot(index="metric", columns="rule", values="slope")
    wide = wide.reindex(index=list(dict.fromkeys(slopes["metric"])), columns=list(dict.fromkeys(slopes["rule"])))
    out = pd.DataFrame({"metric": [metric_label(m) for m in wide.index]})
    for r in wide.columns:
        out[labels.get(r, r)] = ["—" if pd.isna(v) else f"{round(v, 3) + 0.0:.3f}" for v in wide[r]]
    return out


def sweep_table(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The swept keys, the rule and the headline costs of every point, formatted."""
    out = pd.DataFrame({k: table[k] for k in keys})
    seen = set()
    for col, (head, scale) in SWEEP_COLUMNS.items():
        if col not in table or head in seen:
            continue
        seen.add(head)
        v = table[col]
        out[head] = v.map(percent) if scale == "%" else v if scale is None else \
            (v * scale).map(lambda x: f"{x:,.4f}" if head.startswith("paper") and pd.notna(x) else number(x))
    return out


def sweep_page(folder: Path) -> Page:
    """The page of a ``tess-sim sweep`` output folder (slopes when one numeric key was swept)."""
    meta = json.loads((folder / "sweep.json").read_text())
    table = pd.read_csv(folder / "sweep.csv")
    failures = json.loads((folder / "failures.json").read_text()) if (folder / "failures.json").exists() else []
    keys = list(meta["settings"])
    page = Page(f"tess-sim sweep: {meta.get('title', meta['name'])} ({meta['name']})")
    what = [f"workload: {meta['workload']}", f"engine: {meta['engine']}, tess-sim {meta['version']}"]
    what += [f"{k} = {', '.join(json.dumps(v) for v in vals)}" for k, vals in meta["settings"].items()]
    n_ok = table["point"].nunique() if len(table) else 0
    what.append(f"{len(meta['points'])} points, {n_ok} with results, {len(failures)} failed")
    page.sections.append(("What was run", [what]))
    heads: list = []
    varying = [k for k in keys if len(table) and table[k].nunique() > 1]  # a one-value --set: in "What was run"
    if len(varying) == 1 and pd.api.types.is_numeric_dtype(table[varying[0]]):
        key = varying[0]
        s = sweep_slopes(table, key, x_min=16 if key == "input.T" else None)
        if len(s):
            heads += [f"Log-log slopes of cost versus {key} per rule"
                      + (" (fitted over T ≥ 16)" if key == "input.T" else "") + " (— : the rule has no such cost):",
                      slope_table(s, table)]
    page.sections.append(("Headline numbers", heads or ["(no one-dimensional numeric sweep: no slopes)"]))
    if failures:
        page.sections.append(("Failed points", [[f"{json.dumps(f['settings'])}: {f['error']}" for f in failures]]))
    page.sections.append(("Table per sample", [
        f"MB = 2^20 bytes; M = millions; every column of every point is in sweep.csv ({len(table.columns)} columns).",
        sweep_table(table, varying or keys)]))
    page.sections.append(("Plots", _figures(folder) or ["(no plots)"]))
    return page


def build_report(folder: str | Path) -> tuple[str, str]:
    """(HTML, Markdown) of a run or sweep folder; UserError if it is neither."""
    folder = Path(folder)
    if (folder / "sweep.json").exists() and (folder / "sweep.csv").exists():
        page = sweep_page(folder)
    elif (folder / "results.json").exists() and (folder / "summary.csv").exists():
        page = run_page(folder)
    else:
        raise UserError(str(folder), "", "not a run folder (results.json, summary.csv) or a finished sweep "
                        "folder (sweep.json, sweep.csv)")
    return page.html(folder), page.markdown()
