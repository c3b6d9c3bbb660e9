"""What a stored sweep point is reused for: the same configuration, the same content of every file
it names, the same code; and which sweep a folder holds (one at a time, no silent overwrite)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading

import pytest
import yaml
from click.testing import CliRunner

from tess_sim.cli import main
from tess_sim.simulator.errors import UserError
from tess_sim.sweeps import PointStore, fingerprint, lock, plan_sweep, run_sweep
from tess_sim.sweeps.lock import SweepLock

from .conftest import ROOT, WORKLOADS
from .plugins import MINI_TABLE

SMALL = WORKLOADS / "small.yaml"


# --------------------------------------------------------------------------- the code
def test_code_change_recomputes_stored_points_and_counts_them(tmp_path, monkeypatch):
    plan = plan_sweep(SMALL, {"T": "1,2"})
    first = run_sweep(plan, tmp_path, "serial")
    assert len(first.computed) == 2 and not first.stale
    monkeypatch.setattr(fingerprint, "code_hash", lambda: "0123456789abcdef")  # the code was edited
    again = run_sweep(plan, tmp_path, "serial")
    assert sorted(again.stale) == sorted(again.computed) == sorted(p.key for p in plan.points)
    assert not again.skipped and not again.corrupt
    for p in plan.points:  # recomputed in place, stamped with the new code
        assert json.loads(PointStore(tmp_path).path(p.key).read_text())["code"] == "0123456789abcdef"
    assert len(list((tmp_path / "points").glob("*.json"))) == 2
    third = run_sweep(plan, tmp_path, "serial")
    assert len(third.skipped) == 2 and not third.computed and not third.stale
    monkeypatch.undo()  # back to the real code: stale again
    assert len(run_sweep(plan, tmp_path, "serial").stale) == 2


def test_code_hash_covers_every_source_file_and_shipped_workload():
    names = {rel for rel, _ in fingerprint.package_files()}
    for rel in ("tess_sim/sweeps/runner.py", "tess_sim.simulator/engines/simpy/engine.py",
                "tess_sim.cost_models/table.py", "tess_sim.reports/page.py", "tess_sim.workloads/small.yaml",
                "tess_sim.workloads/hw/edge.yaml"):
        assert rel in names, rel
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    h = fingerprint.code_hash()
    assert len(h) == 16 and h == fingerprint.code_hash()


def _copy_package(dest):
    """The installed layout: dest/tess_sim with simulator/, cost_models/, ... inside it."""
    for name in fingerprint.PACKAGES:
        src = ROOT / name.removeprefix("tess_sim.")
        shutil.copytree(src, dest / name.replace(".", "/"), ignore=shutil.ignore_patterns("__pycache__"),
                        dirs_exist_ok=True)


def test_cli_on_an_edited_copy_of_the_package_recomputes(tmp_path):
    """The real code hash, from the files Python imports: a copy of the package on PYTHONPATH, one
    comment added to one module between two runs."""
    pkg, out = tmp_path / "pkg", tmp_path / "sw"
    _copy_package(pkg)
    cmd = [sys.executable, "-m", "tess_sim", "sweep", "small", "--set", "T=1,2",
           "--executor", "serial", "--out", str(out), "--no-plot"]

    def sweep():
        proc = subprocess.run(cmd, cwd=pkg, env={**os.environ, "PYTHONPATH": str(pkg)}, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert "2 computed, 0 already stored, 0 corrupt recomputed, 0 recomputed (code changed)" in sweep()
    with open(pkg / "tess_sim" / "simulator" / "ledger.py", "a") as fh:
        fh.write("\n# an edit that changes no number, but the cache cannot know that\n")
    assert "2 computed, 0 already stored, 0 corrupt recomputed, 2 recomputed (code changed)" in sweep()
    assert "0 computed, 2 already stored, 0 corrupt recomputed, 0 recomputed (code changed)" in sweep()


# --------------------------------------------------------------------------- the files a point names
COST_TABLE = MINI_TABLE


def _activity_csv(spikes: int) -> str:
    lines = ["layer,step,spikes"] + [f"input,{t},{10 + t}" for t in range(4)]
    return "\n".join(lines + [f"{b},{t},{spikes + t}" for b in ("c1", "c2", "fc") for t in range(4)]) + "\n"


def _workload_with_files(folder):
    """small.yaml in ``folder`` naming a hardware file, a cost table and an activity CSV by relative
    path (as shipped workloads do)."""
    (folder / "hw").mkdir(parents=True)
    shutil.copy(WORKLOADS / "hw" / "edge.yaml", folder / "hw" / "edge.yaml")
    (folder / "table.yaml").write_text(yaml.safe_dump(COST_TABLE))
    (folder / "act.csv").write_text(_activity_csv(3))
    wl = yaml.safe_load(SMALL.read_text())
    wl.update(hardware="hw/edge.yaml", cost_models=["table.yaml"], activity={"source": "file", "path": "act.csv"})
    (folder / "w.yaml").write_text(yaml.safe_dump(wl))
    return folder / "w.yaml"


def test_editing_a_file_the_workload_names_invalidates_its_points(tmp_path, monkeypatch):
    wl = _workload_with_files(tmp_path / "wl")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # relative paths resolve against the workload file, not the cwd
    grid = {"hardware.pe.units": "4,64"}
    out = tmp_path / "sw"
    first = run_sweep(plan_sweep(wl, grid), out, "serial")
    assert len(first.computed) == 2 and not first.failures, first.failures
    assert (first.table["energy_model"] == "mine").all()
    assert len(run_sweep(plan_sweep(wl, grid), out, "serial").skipped) == 2
    energy = first.table.set_index(["hardware.pe.units", "rule"])["energy_pJ"]
    edits = {
        "act.csv": lambda p: p.write_text(_activity_csv(9)),
        "table.yaml": lambda p: p.write_text(yaml.safe_dump(
            dict(COST_TABLE, dram={"read_pj_per_bit": 20, "write_pj_per_bit": 20, "source": "mine"}))),
        "hw/edge.yaml": lambda p: p.write_text(p.read_text().replace("clock_mhz: 200", "clock_mhz: 100")
                                               .replace("name: edge", "name: edge2")),
    }
    seen = {p.key for p in plan_sweep(wl, grid).points}
    for name, edit in edits.items():
        edit(tmp_path / "wl" / name)
        plan = plan_sweep(wl, grid)
        keys = {p.key for p in plan.points}
        assert not keys & seen, f"editing {name} kept a point key"
        seen |= keys
        res = run_sweep(plan, out, "serial")
        assert len(res.computed) == 2 and not res.skipped and not res.failures, (name, res.failures)
        now = res.table.set_index(["hardware.pe.units", "rule"])["energy_pJ"]
        if name != "hw/edge.yaml":  # a clock change moves no energy; the others do
            assert (now != energy).any(), name
        energy = now


def test_point_keys_name_each_input_file_by_content(tmp_path):
    wl = _workload_with_files(tmp_path)
    config = plan_sweep(wl, {"T": "4"}).points[0].config
    files = fingerprint.input_digests(config)
    assert set(files) == {str(tmp_path / "table.yaml"), str(tmp_path / "act.csv")}  # hardware is inline
    assert all(d.startswith("sha256:") for d in files.values())
    assert config["hardware"]["name"] == "edge" and config["activity"]["path"] == str(tmp_path / "act.csv")
    assert fingerprint.file_digest(tmp_path / "nope.npz") == "missing"
    assert fingerprint.file_digest(tmp_path / "hw").startswith("listing:")


# --------------------------------------------------------------------------- which sweep a folder holds
def _cli(*args):
    return CliRunner().invoke(main, ["sweep", *map(str, args), "--executor", "serial", "--no-plot"])


def test_another_sweep_into_the_folder_is_refused_unless_force(tmp_path):
    out = tmp_path / "sweep-x"
    assert _cli(SMALL, "--set", "T=1,2", "--out", out).exit_code == 0
    before = {n: (out / n).read_bytes() for n in ("sweep.csv", "sweep.json")}
    r = _cli(SMALL, "--set", "network.width_multiplier=1,2", "--out", out)
    assert r.exit_code == 2
    assert r.stderr == (f"error: {out}: holds a sweep of {SMALL} over input.T=1,2; this is {SMALL} over "
                        "network.width_multiplier=1,2; use --force or another --out\n")
    assert {n: (out / n).read_bytes() for n in before} == before  # nothing written
    for other in ([WORKLOADS / "dvs.yaml", "--set", "T=1,2"],  # another workload, same grid
                  [SMALL, "--set", "T=1"],  # a subset: sweep.csv would lose rows
                  [SMALL, "--set", "T=1,2", "--set", "input.classes=4"],  # another key
                  [SMALL, "--set", "T=1,2", "--engine", "simpy"]):  # another engine
        r = _cli(*other, "--out", out)
        assert r.exit_code == 2 and r.stderr.startswith(f"error: {out}: holds a sweep of "), other
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.output
    assert "on the simpy engine" in r.stderr
    assert {n: (out / n).read_bytes() for n in before} == before
    # the same sweep resumes; a grown grid extends it
    assert "0 computed, 2 already stored" in _cli(SMALL, "--set", "T=1,2", "--out", out).output
    assert "1 computed, 2 already stored" in _cli(SMALL, "--set", "T=1,2,4", "--out", out).output
    r = _cli(SMALL, "--set", "network.width_multiplier=1,2", "--out", out, "--force")
    assert r.exit_code == 0 and "replacing it (--force)" in r.stderr
    assert json.loads((out / "sweep.json").read_text())["settings"] == {"network.width_multiplier": [1, 2]}


def test_a_killed_first_run_already_claims_its_folder(tmp_path, monkeypatch):
    from tess_sim.sweeps import executors

    def interrupted(config, engine):
        raise KeyboardInterrupt

    monkeypatch.setattr(executors, "compute_point", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan_sweep(SMALL, {"T": "1,2"}), tmp_path, "serial")
    monkeypatch.undo()
    assert not (tmp_path / "sweep.csv").exists()
    with pytest.raises(UserError, match="holds a sweep of .* over input.T=1,2; this is"):
        run_sweep(plan_sweep(SMALL, {"input.classes": "2,4"}), tmp_path, "serial")


# --------------------------------------------------------------------------- one sweep at a time
def test_a_locked_folder_waits_then_refuses_naming_the_holder(tmp_path, monkeypatch):
    monkeypatch.setattr(lock, "WAIT", 0.3)
    out = tmp_path / "sw"
    with SweepLock(out):  # another sweep (this process, through another open file)
        assert (out / ".lock").read_text() == f"{os.getpid()}\n"
        r = _cli(SMALL, "--set", "T=1,2", "--out", out)
    assert r.exit_code == 2
    assert r.stderr == (f"error: {out}: another sweep is running in this folder (held by pid {os.getpid()}); "
                        "wait for it to finish or use another --out\n")
    assert not (out / "sweep.json").exists() and not (out / "points").exists()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    with SweepLock(out):  # held on by the workers of a sweep that was killed
        (out / ".lock").write_text(f"{gone}\n")
        with pytest.raises(UserError, match=f"held by the workers of pid {gone}, which has exited"):
            run_sweep(plan_sweep(SMALL, {"T": "1,2"}), out, "serial")
    # released while the second one waits: it goes ahead
    monkeypatch.setattr(lock, "WAIT", 30)
    held = SweepLock(out).__enter__()
    threading.Timer(0.3, held.__exit__).start()
    res = run_sweep(plan_sweep(SMALL, {"T": "1,2"}), out, "serial")
    assert len(res.computed) == 2 and (out / ".lock").read_text() == ""


def test_temporary_files_of_a_killed_run_are_removed_at_the_next_start(tmp_path):
    plan = plan_sweep(SMALL, {"T": "1,2"})
    run_sweep(plan, tmp_path, "serial")
    left = [tmp_path / "points" / f".{plan.points[0].key}.json.k3j2.tmp", tmp_path / ".sweep.csv.x9.tmp"]
    for p in left:
        p.write_text('{"key": "half')
    logged = []
    res = run_sweep(plan, tmp_path, "serial", log=logged.append)
    assert len(res.skipped) == 2 and not res.corrupt
    assert not any(p.exists() for p in left)
    assert logged == [f"removed 2 temporary file(s) an interrupted sweep left in {tmp_path}"]
