"""Cost models from the command line: plugins (entry point, module:Class), user tables, the
energy summary of ``tess-sim run``, and one-line exit-2 errors for every cost-model mistake."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from tess_sim.cli import main

from .conftest import ROOT, WORKLOADS
from .plugins import MINI_TABLE, flat_plugin_source

@pytest.fixture
def plugin_site(tmp_path, monkeypatch):
    """A package installed into a temporary directory, its model registered under the
    ``tess_sim.cost_models`` entry-point group (a dist-info as pip writes it)."""
    site = tmp_path / "site"
    (site / "flatplug").mkdir(parents=True)
    (site / "flatplug" / "__init__.py").write_text(flat_plugin_source("flatplug"))
    info = site / "flatplug-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: flatplug\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[tess_sim.cost_models]\nflat = flatplug:Flat\n")
    (info / "RECORD").write_text("")
    monkeypatch.syspath_prepend(str(site))
    return site


def invoke(*args):
    return CliRunner().invoke(main, ["run", "--no-plot", *map(str, args)])


def test_entry_point_plugin_is_found_by_name(plugin_site, tmp_path):
    from tess_sim.cost_models import entry_point_names, load_cost_model

    assert "flat" in entry_point_names()
    assert load_cost_model({"model": "flat", "per_op": 3.0}).per_op == 3.0
    out = tmp_path / "o"
    r = invoke(WORKLOADS / "small.yaml", "--cost-model", "flat", "--out", out, "--engine", "analytical")
    assert r.exit_code == 0, r.output
    assert "cost model flat" in r.output
    e = pd.read_csv(out / "energy.csv")
    led = pd.read_csv(out / "ledger.csv")
    full = led[(led.convention == "full") & (led.rule == "tess")]
    ops = full[full.unit == "pe"]["count"].sum()
    moved = full[full.action.isin(["read", "write"])]
    bits = (moved["count"] * moved["bits"]).sum()
    tess = e[e.rule == "tess"].iloc[0]
    assert tess["compute"] == pytest.approx(ops)             # 1 pJ per op
    assert tess["sram"] + tess["dram"] == pytest.approx(2 * bits)  # 2 pJ per bit
    # edge: two SRAMs × 5 mW over the cycle estimate ops / 64 PEs / 200 MHz
    assert tess["leakage"] == pytest.approx(10e-3 * ops / 64 / 200e6 * 1e12)
    # the SimPy engine's simulated time replaces the estimate: leakage = power × time
    r = invoke(WORKLOADS / "small.yaml", "--cost-model", "flat", "--out", out, "--engine", "simpy")
    assert r.exit_code == 0, r.output
    latency_s = pd.read_csv(out / "summary.csv", index_col="rule").loc["tess", "latency_ms"] / 1e3
    tess = pd.read_csv(out / "energy.csv").query("rule == 'tess'").iloc[0]
    assert tess["leakage"] == pytest.approx(10e-3 * latency_s * 1e12)


def test_module_colon_class(plugin_site, tmp_path):
    r = invoke(WORKLOADS / "small.yaml", "--cost-model", "flatplug:Flat,per_op=2", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    meta = json.loads((tmp_path / "o" / "results.json").read_text())
    assert meta["cost_models"][0]["params"] == {"per_op": 2}


def test_workload_table_path_relative_to_workload(tmp_path):
    table = MINI_TABLE
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "mine.yaml").write_text(yaml.safe_dump(table))
    wl = yaml.safe_load((WORKLOADS / "small.yaml").read_text())
    wl["hardware"] = yaml.safe_load((WORKLOADS / "hw" / "edge.yaml").read_text())
    wl["cost_models"] = ["tables/mine.yaml", {"model": "horowitz45", "access": "words"}]
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(wl))
    r = invoke(tmp_path / "w.yaml", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    e = pd.read_csv(tmp_path / "o" / "energy.csv")
    assert list(e["model"].unique()) == ["mine", "horowitz45"]


def bad_table(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: bad\nops:\n  add: {points: {8: 0.1}, exponent: 1}\n")  # no source
    return p


def addonly_table(tmp_path):
    p = tmp_path / "addonly.yaml"
    p.write_text(yaml.safe_dump({
        "name": "addonly",
        "ops": {k: {"points": {8: 1.0}, "exponent": 1, "source": "t"} for k in ("add", "mul", "mac", "ac", "cmp")},
        "sram": {"word_bits": 8, "read": {"points": {1: 1.0}, "exponent": 0, "source": "t"}},
        "dram": {"read_pj_per_bit": 1, "write_pj_per_bit": 1, "source": "t"}}))
    return p


@pytest.mark.parametrize("spec, expected", [
    ("horowits45", "unknown cost model 'horowits45' (did you mean 'horowitz45'?)"),
    ("nosuchmodule:Model", "cannot import cost model module 'nosuchmodule'"),
    ("cacti28,alpha=-1", "--cost-model: cacti28.alpha: cost model cacti28: must be a number ≥ 0"),
    ("cacti28,beta=1", "cacti28.beta: cost model cacti28: unknown parameter"),
    (bad_table, "ops.add.source: required field is missing"),
    (addonly_table, "pe.div: cannot price op 'div'"),
    ("missing.yaml", "cost table 'missing.yaml' not found"),
])
def test_cost_model_mistakes_exit_2_with_one_line(tmp_path, spec, expected):
    spec = str(spec(tmp_path)) if callable(spec) else spec
    out = tmp_path / "o"
    r = CliRunner().invoke(main, ["run", "--no-plot", str(WORKLOADS / "small.yaml"), "--cost-model", spec,
                                  "--out", str(out)])
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], r.output
    assert not out.exists()  # no partial output


def test_unknown_model_in_workload_names_the_file_and_field(tmp_path):
    wl = yaml.safe_load((WORKLOADS / "small.yaml").read_text())
    wl["hardware"] = yaml.safe_load((WORKLOADS / "hw" / "edge.yaml").read_text())
    wl["cost_models"] = ["counts", "cacti29"]
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(wl))
    proc = subprocess.run([sys.executable, "-m", "tess_sim.cli", "run", str(tmp_path / "w.yaml"), "--no-plot",
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert f"{tmp_path / 'w.yaml'}: cost_models[1]: unknown cost model 'cacti29'" in proc.stderr


def test_dvs_horowitz45_summary_shows_every_rule_and_the_dram_share(tmp_path):
    r = invoke(WORKLOADS / "dvs.yaml", "--cost-model", "horowitz45", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    block = r.output[r.output.index("cost model horowitz45"):]
    header = next(line for line in block.splitlines() if line.lstrip().startswith("BPTT"))
    assert all(label in header for label in ("BPTT", "S-TLLR", "TESS"))
    for row in ("total (µJ)", "  compute", "  SRAM", "  DRAM", "  leakage", "per SOP (pJ)", "phase bwd",
                "layer conv1", "buffer history"):
        assert row in block
    e = pd.read_csv(tmp_path / "o" / "energy.csv").set_index("rule")
    bd = pd.read_csv(tmp_path / "o" / "energy_breakdown.csv")
    hist = bd[(bd.rule == "bptt") & (bd.by == "buffer") & (bd.part == "history")]["energy"].iloc[0]
    assert hist > 0 and e.loc["bptt", "dram"] > 0
    # BPTT's history spills (edge: the 256 KiB state SRAM is full of membranes): priced as DRAM
    from tess_sim.cost_models import cost_report
    from tess_sim.api import run
    from tess_sim.api import load

    rows = cost_report(run(load(WORKLOADS / "dvs.yaml")), ["horowitz45"]).priced[0].rows
    spilled = rows[(rows.rule == "bptt") & (rows.unit == "history")]
    assert set(spilled["category"]) == {"dram"}
    assert spilled["energy"].sum() == pytest.approx(hist)
    dram_line = next(line for line in block.splitlines() if line.startswith("  DRAM"))
    assert "%" in dram_line


def test_validate_resolves_cost_models(tmp_path):
    wl = yaml.safe_load((WORKLOADS / "small.yaml").read_text())
    wl["hardware"] = "hw/edge.yaml"
    wl["cost_models"] = [{"model": "horowitz45", "arithmetc": "fp"}]
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "edge.yaml").write_text((WORKLOADS / "hw" / "edge.yaml").read_text())
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(wl))
    r = CliRunner().invoke(main, ["validate", str(tmp_path / "w.yaml")])
    assert r.exit_code == 2 and f"{tmp_path / 'w.yaml'}: cost_models[0].arithmetc: cost model horowitz45: unknown parameter (did you mean 'arithmetic'?)" in r.output
