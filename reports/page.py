"""The report page of a run folder (``results.json``) or a sweep folder (``sweep.json``):
a self-contained HTML file (figures embedded as data URIs, inline CSS, no scripts, no external
fonts) and a Markdown file (figures linked as the PNG files beside it).

Sections: what was run, the headline numbers, the tables, the plots.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from simulator.errors import UserError

from .summary import ROWS

CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1200px;padding:0 1em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #eee}
code{background:#f6f6f6;padding:1px 4px}h1{font-size:1.6em}h2{border-bottom:1px solid #ddd}"""
TABLE_COLUMNS = ["rule", "paper_mac_M", "paper_memory_MB", "full_memory_MB", "paper_mac_per_step_M",
                 "ops_learning", "ops_total"]


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
                if isinstance(b, pd.DataFrame):
                    out.append(b.to_html(index=False, border=0, escape=True))
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
                if isinstance(b, pd.DataFrame):
                    out.append(_md_table(b))
                elif isinstance(b, Path):
                    out.append(f"![{b.stem}]({b.as_posix()})")
                elif isinstance(b, list):
                    out += [f"- {x}" for x in b]
                else:
                    out.append(str(b))
                out.append("")
        return "\n".join(out)


def _md_table(df: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _cell(v) -> str:
    """Six significant digits: enough to check a number by hand against summary.csv."""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _figures(folder: Path) -> list[Path]:
    return [Path(p.name) for p in sorted(folder.glob("*.png"))]


def run_page(folder: Path) -> Page:
    """The page of a ``tess-sim run`` output folder."""
    res = json.loads((folder / "results.json").read_text())
    wl, summary = res["workload"], pd.read_csv(folder / "summary.csv", index_col="rule")
    i = wl["input"]
    page = Page(f"tess-sim run: {wl.get('dataset') or wl['name']} ({wl['name']})")
    page.sections.append(("What was run", [[
        f"workload: {res.get('source') or wl['name']}", f"engine: {res['engine']}, tess-sim {res['version']}",
        f"input {i['shape']}, T = {i['T']}, {i['classes']} classes, batch {i['batch']}, encoding {i['encoding']}",
        f"rules: {', '.join(summary['label'])}", f"hardware: {wl['hardware']['name']}",
        f"activity: {res['activity']['description']}"]]))
    heads = []
    if "bptt" in summary.index:
        for rule, s in summary.drop(index="bptt").iterrows():
            heads.append(f"{s['label']}: paper #MAC {s['paper_mac_M']:.6g} M ({s['paper_mac_M_vs_bptt']:.4g}× BPTT), "
                         f"paper memory {s['paper_memory_MB']:.6g} MB ({s['paper_memory_MB_vs_bptt']:.4g}×), "
                         f"full memory {s['full_memory_MB']:.6g} MB ({s['full_memory_MB_vs_bptt']:.4g}×), "
                         f"learning ops {s['ops_learning'] / 1e6:.6g} M ({s['ops_learning_vs_bptt']:.4g}×)")
    page.sections.append(("Headline numbers", ["Per sample; MB = 2^20 bytes; (×) = ratio to BPTT.", heads]))
    rows = {label: [_cell(float(summary.loc[r, key]) / (1e6 if key.startswith("ops_") else 1)) for r in summary.index]
            for key, label in ROWS if key in summary}
    known = {key for key, _ in ROWS} | {"label"}
    extra = [c for c in summary.columns if c not in known and not c.endswith("_vs_bptt")]  # timing, …
    rows.update({c: [_cell(summary.loc[r, c]) for r in summary.index] for c in extra})
    table = pd.DataFrame(rows, index=list(summary["label"])).T.reset_index(names="metric")
    page.sections.append(("Summary table", [table]))
    if (folder / "energy.csv").exists():
        energy = pd.read_csv(folder / "energy.csv")
        cols = [c for c in ("model", "unit", "rule", "compute", "sram", "dram", "leakage", "total", "total_vs_bptt")
                if c in energy]
        page.sections.append(("Energy per sample, per cost model (energy.csv)", [energy[cols].map(_cell)]))
    page.sections.append(("Plots", _figures(folder) or ["(no plots)"]))
    return page


def sweep_page(folder: Path) -> Page:
    """The page of a ``tess-sim sweep`` output folder (slopes when one numeric key was swept)."""
    from .sweep import sweep_slopes

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
    if len(keys) == 1 and len(table) and pd.api.types.is_numeric_dtype(table[keys[0]]):
        key = keys[0]
        s = sweep_slopes(table, key, x_min=16 if key == "input.T" else None)
        if len(s):
            heads += [f"Log-log slopes of cost versus {key} per rule"
                      + (" (fitted over T ≥ 16)" if key == "input.T" else "") + ":",
                      (s.pivot(index="metric", columns="rule", values="slope").round(3) + 0.0)
                      .astype(object).fillna("–").reset_index()]
    page.sections.append(("Headline numbers", heads or ["(no one-dimensional numeric sweep: no slopes)"]))
    if failures:
        page.sections.append(("Failed points", [[f"{json.dumps(f['settings'])}: {f['error']}" for f in failures]]))
    cols = keys + [c for c in TABLE_COLUMNS if c in table] + \
        [c for c in table.columns if c.startswith(("energy", "cycles", "latency")) and not c.endswith("_vs_bptt")]
    shown = table[cols].map(_cell) if len(table) else table[cols]
    page.sections.append(("Table (per sample; MB = 2^20 bytes; *_M millions)", [shown]))
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
