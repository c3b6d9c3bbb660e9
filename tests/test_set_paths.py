"""``--set`` file paths are relative to the workload's folder when the file is there, else to the
current folder; a file in neither is one line naming both places."""

from __future__ import annotations

import shutil

import pandas as pd
from click.testing import CliRunner

from tess_sim.cli import main

from .conftest import WORKLOADS


def _activity_csv(tmp_path, scale: float):
    """An activity CSV of small.yaml (a dense run's activity.csv with every count times ``scale``)."""
    out = tmp_path / "dense"
    if not out.exists():
        r = CliRunner().invoke(main, ["run", str(WORKLOADS / "small.yaml"), "--out", str(out), "--no-plot"])
        assert r.exit_code == 0, r.output
    a = pd.read_csv(out / "activity.csv")
    num = [c for c in a.columns if c not in ("layer", "step")]
    a[num] = a[num] * scale
    return a, num


def _workload_copy(tmp_path):
    """small.yaml in a folder of its own (its hardware file beside it)."""
    wl = tmp_path / "wl"
    (wl / "hw").mkdir(parents=True)
    shutil.copy(WORKLOADS / "small.yaml", wl / "small.yaml")
    shutil.copy(WORKLOADS / "hw" / "edge.yaml", wl / "hw" / "edge.yaml")
    return wl / "small.yaml"


def _run(*args):
    return CliRunner().invoke(main, ["run", *map(str, args), "--no-plot", "--set", "activity.source=file"])


def test_a_set_path_is_found_in_the_current_folder(tmp_path, monkeypatch):
    wl = _workload_copy(tmp_path)
    a, _ = _activity_csv(tmp_path, 0.5)
    here = tmp_path / "cwd"
    here.mkdir()
    a.to_csv(here / "act.csv", index=False)
    monkeypatch.chdir(here)
    r = _run(wl, "--out", tmp_path / "o", "--set", "activity.path=act.csv")
    assert r.exit_code == 0, r.output
    assert f"activity: file: {here / 'act.csv'}" in r.output


def test_the_workload_folder_comes_first(tmp_path, monkeypatch):
    wl = _workload_copy(tmp_path)
    a, num = _activity_csv(tmp_path, 0.5)
    a.to_csv(wl.parent / "act.csv", index=False)
    here = tmp_path / "cwd"
    here.mkdir()
    b = a.copy()
    b[num] = b[num] * 0.0
    b.to_csv(here / "act.csv", index=False)
    monkeypatch.chdir(here)
    r = _run(wl, "--out", tmp_path / "o", "--set", "activity.path=act.csv")
    assert r.exit_code == 0, r.output
    assert f"activity: file: {wl.parent / 'act.csv'}" in r.output
    got = pd.read_csv(tmp_path / "o" / "activity.csv")
    assert got["spikes"].sum() > 0  # the workload folder's file, not the silent one here


def test_a_set_path_in_neither_place_names_both(tmp_path, monkeypatch):
    wl = _workload_copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    r = _run(wl, "--out", tmp_path / "o", "--set", "activity.path=nope.csv")
    assert r.exit_code == 2
    assert r.output.strip().count("\n") == 0
    assert "activity.path" in r.output and str(wl.parent / "nope.csv") in r.output
    assert str(tmp_path / "nope.csv") in r.output
    assert not (tmp_path / "o").exists()


def test_sweep_values_are_found_in_the_current_folder(tmp_path, monkeypatch):
    wl = _workload_copy(tmp_path)
    a, num = _activity_csv(tmp_path, 1.0)
    a.to_csv(tmp_path / "full.csv", index=False)
    a[num] = a[num] * 0.5
    a.to_csv(tmp_path / "half.csv", index=False)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["sweep", str(wl), "--set", "activity.source=file", "--set",
                                  "activity.path=full.csv,half.csv", "--executor", "serial", "--no-plot",
                                  "--out", str(tmp_path / "s")])
    assert r.exit_code == 0, r.output
    t = pd.read_csv(tmp_path / "s" / "sweep.csv")
    e = t[t.rule == "tess"].set_index("activity.path")
    assert e.loc["half.csv", "ops_fwd"] < e.loc["full.csv", "ops_fwd"]  # each point read its own file
