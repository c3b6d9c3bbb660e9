"""The ReckOn comparison: `tess-sim reckon` prints our pJ/SOP, the published 5.3 and the ratio,
and the figure equals the one `tess-sim run` writes (derived a second way from energy.csv)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from click.testing import CliRunner

from tess_sim.cli import main
from tess_sim.api import load

from .conftest import WORKLOADS


def test_reckon_workload_matches_reckon_sizes():
    wl = load(WORKLOADS / "reckon.yaml")
    p = wl.hardware.precision
    assert (p.weight, p.membrane, p.trace) == (8, 16, 12)                  # ReckOn's bit widths
    lif = wl.network.layers[0]
    assert wl.input.shape == [512] and lif.out_features == 256            # 256 in + 256 recurrent → 256
    assert 512 * 256 * p.weight / 8 == 2 * 64 * 1024                       # input + recurrent weight SRAMs
    assert wl.rules.stllr.alpha_post == 0 and wl.rules.stllr.window == 1
    assert {m["model"] for m in wl.cost_models} == {"cacti28", "horowitz45"}
    assert all(m["vdd"] == 0.5 for m in wl.cost_models)


def test_reckon_command_prints_ours_published_and_ratio(tmp_path):
    r = CliRunner().invoke(main, ["reckon"])
    assert r.exit_code == 0, r.output
    assert "5.3 pJ/SOP at 0.5 V" in r.output and "why they differ" in r.output
    # second derivation: run the same workload and divide its dynamic energy by its SOPs
    out = tmp_path / "o"
    assert CliRunner().invoke(main, ["run", str(WORKLOADS / "reckon.yaml"), "--no-plot", "--out", str(out)]).exit_code == 0
    e = pd.read_csv(out / "energy.csv")
    led = pd.read_csv(out / "ledger.csv")
    full = led[(led.convention == "full") & (led.rule == "stllr")]
    sops = full[(full.phase == "fwd") & full.action.isin(["ac", "mac"])]["count"].sum()
    for model in ("cacti28", "horowitz45"):
        row = e[(e.model == model) & (e.rule == "stllr")].iloc[0]
        ours = (row["compute"] + row["sram"] + row["dram"]) / sops
        line = next(line for line in r.output.splitlines() if line.startswith(model))
        cells = line.split()
        assert float(cells[1]) == pytest.approx(ours, rel=2e-3)
        assert "5.3" in cells and f"{ours / 5.3:.3g}×" in cells


def test_reckon_rule_must_be_enabled():
    r = CliRunner().invoke(main, ["reckon", "--rule", "tess"])
    assert r.exit_code == 2 and re.search(r"--rule: rule 'tess' is not enabled", r.output)
