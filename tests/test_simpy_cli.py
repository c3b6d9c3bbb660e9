"""The command line with the SimPy engine (the default): files, headline, options, bad input."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from tess_sim.cli import main

from .conftest import WORKLOADS


def test_run_defaults_to_simpy_and_writes_timing(tmp_path):
    out = tmp_path / "o"
    r = CliRunner().invoke(main, ["run", str(WORKLOADS / "small.yaml"), "--out", str(out), "--no-plot"])
    assert r.exit_code == 0, r.output
    assert "engine simpy" in r.output and "cycles =" in r.output and "spills: everything on chip" in r.output
    assert "history fits on chip up to T = " in r.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["activity.csv", "energy.csv", "energy_breakdown.csv", "ledger.csv", "neurobench.csv",
                     "placement.csv", "report.html", "report.md", "results.json", "summary.csv", "timing.csv"]
    timing = pd.read_csv(out / "timing.csv")
    assert list(timing.columns) == ["rule", "scope", "name", "metric", "value"]
    ledger = pd.read_csv(out / "ledger.csv", keep_default_na=False)
    assert "memory" in ledger.columns
    summary = pd.read_csv(out / "summary.csv", index_col="rule")
    cyc = timing[(timing.scope == "sample") & (timing.metric == "cycles")].set_index("rule")["value"]
    assert summary["cycles"].to_dict() == pytest.approx(cyc.to_dict())
    # the printed cycles are the table's
    assert f"{cyc['tess']:,.0f} cycles" in r.output


@pytest.mark.parametrize("g", ["event", "phase"])
def test_granularity_option(tmp_path, g):
    r = CliRunner().invoke(main, ["run", str(WORKLOADS / "small.yaml"), "--out", str(tmp_path), "--no-plot",
                                  "--granularity", g])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("edit,field,reason", [
    ({"cores": 2, "mapping": [0, 1]}, "hardware.mapping", "has 2 entries but the network has 4 layers"),
    ({"cores": 2, "mapping": [0, 0, 5, 1]}, "hardware", "mapping names a core >= cores"),
    ({"pe": {"units": 4, "cycles_per_op": {"expp": 3}}}, "hardware.pe.cycles_per_op", "did you mean 'exp'"),
    ({"pe": {"event_push_cycles": -1}}, "hardware.pe.event_push_cycles", "greater than or equal to 0"),
])
def test_bad_hardware_exit_2(tmp_path, edit, field, reason):
    d = yaml.safe_load((WORKLOADS / "small.yaml").read_text())
    d["hardware"] = {**yaml.safe_load((WORKLOADS / "hw" / "edge.yaml").read_text()), **edit}
    wl = tmp_path / "w.yaml"
    wl.write_text(yaml.safe_dump(d))
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "tess_sim.cli", "run", str(wl), "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert line.startswith(f"error: {wl}: {field}") and reason in line, line
    assert not out.exists()


def test_bad_simulation_section_exit_2(tmp_path):
    d = yaml.safe_load((WORKLOADS / "small.yaml").read_text())
    d["simulation"] = {"granularity": "spike"}
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "edge.yaml").write_text((WORKLOADS / "hw" / "edge.yaml").read_text())
    wl = tmp_path / "w.yaml"
    wl.write_text(yaml.safe_dump(d))
    r = subprocess.run([sys.executable, "-m", "tess_sim.cli", "validate", str(wl)], capture_output=True, text=True)
    assert r.returncode == 2 and ": simulation.granularity: " in r.stderr


@pytest.mark.parametrize("preset", ["edge", "odin", "sata", "reckon"])
def test_presets_run(tmp_path, preset):
    d = yaml.safe_load((WORKLOADS / "small.yaml").read_text())
    d["hardware"] = yaml.safe_load((WORKLOADS / "hw" / f"{preset}.yaml").read_text())
    wl = tmp_path / "w.yaml"
    wl.write_text(yaml.safe_dump(d))
    r = CliRunner().invoke(main, ["run", str(wl), "--out", str(tmp_path / "o"), "--no-plot"])
    assert r.exit_code == 0, r.output
    assert f"timing on {preset}" in r.output


def test_hardware_option_replaces_the_workload_hardware(tmp_path):
    r = CliRunner().invoke(main, ["run", str(WORKLOADS / "small.yaml"), "--out", str(tmp_path), "--no-plot",
                                  "--hardware", str(WORKLOADS / "hw" / "sata.yaml")])
    assert r.exit_code == 0, r.output
    assert "timing on sata (1 core, 128 PEs/core, 400 MHz)" in r.output
    r = subprocess.run([sys.executable, "-m", "tess_sim.cli", "run", str(WORKLOADS / "small.yaml"), "--out",
                        str(tmp_path / "x"), "--hardware", str(tmp_path / "none.yaml")], capture_output=True, text=True)
    assert r.returncode == 2 and "hardware" in r.stderr and "not found" in r.stderr
    assert not (tmp_path / "x").exists()
