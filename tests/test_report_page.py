"""The report page: what ``tess-sim run`` prints (per phase, per layer, timing, placement, energy)
as tables of readable numbers (thousands separators, percentages, "—" instead of nan, no
``3.01124e+09``), wide tables in their own scrolling box, a slope table with a label in every
cell, and the page still self-contained."""

from __future__ import annotations

import html
import math
import re

import pandas as pd
import pytest
from click.testing import CliRunner

from tess_sim.reports.format import number, percent, power
from tess_sim.cli import main

from .conftest import WORKLOADS
from .test_sweep_plots_report import _self_contained

RAW = re.compile(r"\d[eE][+-]?\d|\bnan\b|\binf\b", re.I)


def _tables(page: str) -> list[tuple[list[str], list[list[str]]]]:
    """(header cells, rows of cells) of every table of an HTML page, unescaped."""
    out = []
    for t in re.findall(r"<table>(.*?)</table>", page, re.S):
        head = [html.unescape(c) for c in re.findall(r"<th(?: [^>]*)?>(.*?)</th>", t, re.S)]
        rows = [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
                for r in re.findall(r"<tr>(.*?)</tr>", t.split("</thead>")[-1], re.S)]
        out.append((head, rows))
    return out


@pytest.fixture(scope="module")
def simpy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "small"
    r = CliRunner().invoke(main, ["run", str(WORKLOADS / "small.yaml"), "--engine", "simpy",
                                  "--cost-model", "horowitz45", "--out", str(out), "--no-plot"])
    assert r.exit_code == 0, r.output
    return out, r.output


def test_number_formats():
    assert number(3.01124e9) == "3,011,240,000" and number(0.172062) == "0.1721"
    assert number(float("nan")) == number(None) == "—" and number(22.6953125) == "22.7"
    assert number(12079.70816) == "12,080" and number(0) == "0" and number(7.0) == "7"
    assert number(0.00038231) == "3.823×10⁻⁴" and power(2.2e16) == "2.2×10¹⁶" and number(1e-7) == "10⁻⁷"
    assert percent(0.172062) == "17.2%" and percent(math.nan) == "—"
    assert number("weights 8.3 of 8.8 MB") == "weights 8.3 of 8.8 MB"


def test_run_report_has_the_cli_tables_with_readable_numbers(simpy_run):
    out, printed = simpy_run
    page = (out / "report.html").read_text()
    _self_contained(page)
    for heading in ("Summary per sample", "Timing on", "Cycles per phase", "Cycles per layer", "Memories",
                    "Placement of the buffers", "Energy per sample, per cost model"):
        assert heading in page, heading
    tables = _tables(page)
    assert len(tables) >= 7
    cells = [c for _, rows in tables for row in rows for c in row]
    bad = [c for c in cells if RAW.search(c)]
    assert not bad, bad[:5]
    # the summary table is the one run prints: every row, the same cells
    summary = next(rows for head, rows in tables if head[1:] == ["BPTT", "S-TLLR", "TESS"] and rows[0][0].startswith("paper"))
    for row in summary:
        line = next(ln for ln in printed.splitlines() if ln.startswith(row[0] + " "))
        assert [c for c in re.split(r"\s{2,}", line[len(row[0]):].strip())] == row[1:], row
    # per phase (ops in the summary, cycles in the timing), per layer, placement: every phase / layer / buffer
    timing = pd.read_csv(out / "timing.csv")
    phases = set(timing[(timing["scope"] == "phase")]["name"])
    layers = set(timing[(timing["scope"] == "layer")]["name"])
    by_first = {head[0]: rows for head, rows in tables}
    assert {r[0] for r in by_first["phase"]} == phases and {r[0] for r in by_first["layer"]} == layers
    placement = pd.read_csv(out / "placement.csv")
    assert len(by_first["rule"]) == len(placement)
    # cycles shown with separators and their share, PE utilisation as a percentage
    summary_csv = pd.read_csv(out / "summary.csv", index_col="rule")
    cyc = summary_csv.loc["bptt", "cycles"]
    assert f"{cyc:,.0f}" in page and f"{100 * summary_csv.loc['bptt', 'pe_utilisation']:.1f}%" in page
    # the energy block of run: its total row, the per-phase and per-layer rows
    energy = by_first["per sample"]
    assert energy[0][0].startswith("total") and any(r[0].startswith("phase ") for r in energy) \
        and any(r[0].startswith("layer ") for r in energy)
    md = (out / "report.md").read_text()
    assert "| phase | BPTT | S-TLLR | TESS |" in md and not RAW.search(md.split("## Plots")[0].replace("e-", "e_"))


def test_wide_tables_scroll_in_their_own_box(simpy_run):
    out, _ = simpy_run
    page = (out / "report.html").read_text()
    assert page.count("<table>") == page.count("<div class='wide'><table>")
    assert re.search(r"\.wide\{[^}]*overflow-x:auto", page)


def test_sweep_report_slope_table_and_table(tmp_path):
    out = tmp_path / "sw"
    r = CliRunner().invoke(main, ["sweep", str(WORKLOADS / "small.yaml"), "--set", "T=1..64*2",
                                  "--set", "cost_models=[horowitz45]", "--executor", "serial", "--out", str(out),
                                  "--no-plot"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["report", str(out)])
    assert r.exit_code == 0, r.output
    page = (out / "report.html").read_text()
    _self_contained(page)
    tables = _tables(page)
    slopes = next((head, rows) for head, rows in tables if head[0] == "metric")
    head, rows = slopes
    assert head == ["metric", "BPTT", "S-TLLR", "TESS"]
    assert rows and all(all(c.strip() for c in row) and len(row) == len(head) for row in rows)
    assert "<th></th>" not in page
    # BPTT's paper memory grows linearly with T, S-TLLR's not at all
    mem = next(row for row in rows if row[0] == "memory, paper convention (MB)")
    assert mem[1] == "1.000" and mem[2] == "0.000"
    main_table = next((h, rws) for h, rws in tables if h[0] == "input.T")
    h, rws = main_table
    assert h[1] == "rule" and {r_[1] for r_ in rws} == {"BPTT", "S-TLLR", "TESS"} and len(rws) == 21
    assert len(h) <= 12  # the chosen columns, not all 30 of sweep.csv
    assert not [c for row in rws for c in row if RAW.search(c)]
