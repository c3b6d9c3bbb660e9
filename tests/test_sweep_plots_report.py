"""Sweep plots (which figures a table gets, the Pareto front), the report page (self-contained
HTML, Markdown) and the sweep / plot / report commands end to end."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tess_sim.reports.page import build_report
from tess_sim.reports.sweep import sweep_figures
from tess_sim.reports.sweep_table import energy_part_columns, pareto_front
from tess_sim.cli import main

from .conftest import WORKLOADS

PNG = b"\x89PNG\r\n\x1a\n"


def test_pareto_front_by_hand():
    #          a    b    c    d    e    f (= b)
    energy = [5.0, 3.0, 4.0, 1.0, 6.0, 3.0]
    latency = [1.0, 2.0, 3.0, 5.0, 0.5, 2.0]
    # c is beaten by b on both; every other point is best on one side of the trade-off
    assert pareto_front(energy, latency).tolist() == [True, True, False, True, True, True]


def test_pareto_front_against_definition():
    rng = np.random.default_rng(0)
    e, t = rng.integers(0, 6, 40).astype(float), rng.integers(0, 6, 40).astype(float)
    front = pareto_front(e, t)
    for i in range(40):
        beaten = any(e[j] <= e[i] and t[j] <= t[i] and (e[j] < e[i] or t[j] < t[i]) for j in range(40))
        assert front[i] == (not beaten)


def _synthetic(keys: dict) -> pd.DataFrame:
    """A sweep table with the columns a cost model / timing engine would add."""
    rows = []
    for combo in itertools.product(*keys.values()):
        for r, f in (("bptt", 3.0), ("stllr", 2.0), ("tess", 1.0)):
            x = float(np.prod(combo))
            rows.append({**dict(zip(keys, combo)), "point": str(combo), "rule": r, "label": r.upper(),
                         "paper_mac_M": f * x, "paper_memory_MB": f, "full_memory_MB": 2 * f,
                         "ops_learning": f * x * 1e6, "ops_total": 2 * f * x * 1e6, "ops_fwd": f * x * 1e6,
                         "energy_pe_pJ": f * x, "energy_sram_pJ": 2 * f, "energy_dram_pJ": x,
                         "energy_pJ": f * x + 2 * f + x, "cycles": 1e4 / combo[0] + f})
    return pd.DataFrame(rows)


def test_figures_chosen_from_the_table():
    one = _synthetic({"input.T": [1, 2, 4, 8]})
    assert energy_part_columns(one) == ["energy_pe_pJ", "energy_sram_pJ", "energy_dram_pJ"]
    figs = sweep_figures(one, ["input.T"], "t")
    assert sorted(figs) == ["cost_vs_input.T", "energy_breakdown"]
    two = _synthetic({"hardware.pe.units": [16, 64, 256], "input.T": [4, 8]})
    figs = sweep_figures(two, ["hardware.pe.units", "input.T"], "t")
    assert {"cost_vs_hardware.pe.units", "cost_vs_input.T", "heatmap_ops_total", "heatmap_energy_pJ",
            "heatmap_cycles", "energy_breakdown", "energy_latency"} <= set(figs)
    assert all(v[:8] == PNG for v in figs.values())
    svg = sweep_figures(one, ["input.T"], "t", fmt="svg")["cost_vs_input.T"]
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg


def _self_contained(page: str) -> None:
    assert "<script" not in page.lower()
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:|//)", page, re.I)
    assert "@import" not in page and "url(" not in page
    for src in re.findall(r"<img[^>]*src='([^']*)'", page):
        assert src.startswith("data:image/png;base64,")


def test_sweep_plot_report_commands(tmp_path):
    out = tmp_path / "sw"
    r = CliRunner().invoke(main, ["sweep", str(WORKLOADS / "small.yaml"), "--set", "T=1..64*2",
                                  "--executor", "serial", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "7 points × 3 rules: 7 computed, 0 already stored" in r.output
    assert "sweep:" not in r.output  # no progress bar when not on a terminal
    for name in ("sweep.csv", "sweep.json", "failures.json", "cost_vs_input.T.png", "cost_vs_input.T.svg",
                 "report.html", "report.md"):
        assert (out / name).exists(), name
    page = (out / "report.html").read_text()
    _self_contained(page)
    assert page.count("data:image/png;base64,") == 1 and "memory, paper convention (MB)" in page
    md = (out / "report.md").read_text()
    assert "![cost_vs_input.T](cost_vs_input.T.png)" in md and "| input.T | rule |" in md
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 21 and list(table.columns[:3]) == ["input.T", "point", "rule"]
    # a second run reuses every point
    r = CliRunner().invoke(main, ["sweep", str(WORKLOADS / "small.yaml"), "--set", "T=1..64*2",
                                  "--executor", "serial", "--out", str(out), "--no-plot"])
    assert "0 computed, 7 already stored" in r.output
    r = CliRunner().invoke(main, ["plot", str(out), "--format", "png", "--dpi", "50"])
    assert r.exit_code == 0 and "cost_vs_input.T.png" in r.output
    r = CliRunner().invoke(main, ["report", str(out)])
    assert r.exit_code == 0, r.output


def test_run_report_and_bad_folders(tmp_path):
    out = tmp_path / "run"
    r = CliRunner().invoke(main, ["run", str(WORKLOADS / "small.yaml"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    page = (out / "report.html").read_text()
    _self_contained(page)
    html_md = build_report(out)
    assert "Headline numbers" in html_md[1] and "![complexity](complexity.png)" in html_md[1]
    summary = pd.read_csv(out / "summary.csv", index_col="rule")
    # the headline is summary.csv, at four decimals (as table paper), and its ratio recomputed here
    tess, bptt = summary.loc["tess"], summary.loc["bptt"]
    assert f"TESS: paper #MAC {tess.paper_mac_M:,.4f} M ({tess.paper_mac_M / bptt.paper_mac_M:.3g}× BPTT)" in page
    for cmd in (["report", str(tmp_path)], ["plot", str(out)], ["plot", str(out), "--format", "gif"]):
        r = CliRunner().invoke(main, cmd)
        assert r.exit_code == 2 and r.output.count("\n") == 1, (cmd, r.output)


def test_progress_bar_on_a_terminal_only():
    import io

    from tess_sim.sweeps.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        p = Progress(stream)
        p.start(4)
        p.advance(False)
        p.advance(True, "point failed: input.T=2: boom")
        p.note("point failed: input.T=2: boom")
        p.close()
    assert "2/4 points" in tty.getvalue() and "1 failed" in tty.getvalue() and "ETA" in tty.getvalue()
    assert pipe.getvalue() == "point failed: input.T=2: boom\n"  # piped: the failure line only


def test_parquet_table_when_pyarrow_is_installed(tmp_path):
    pytest.importorskip("pyarrow")
    from tess_sim.sweeps import plan_sweep, run_sweep

    res = run_sweep(plan_sweep(WORKLOADS / "small.yaml", {"T": "1,2"}), tmp_path, "serial")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "sweep.parquet"), res.table)
