"""Executors give identical tables; finished points survive a failing point, a SIGKILL and a
corrupt file, and a re-run computes only the missing points."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tess_sim.sweeps import PointStore, plan_sweep, run_sweep
from tess_sim.sweeps import executors
from tess_sim.sweeps.point import compute_point

from .conftest import ROOT, WORKLOADS

SMALL = WORKLOADS / "small.yaml"
GRID = {"T": "1..16*2", "network.width_multiplier": "1,2"}


def test_serial_process_and_dask_cluster_tables_identical(tmp_path):
    distributed = pytest.importorskip("distributed")
    plan = plan_sweep(SMALL, GRID)
    serial = run_sweep(plan, tmp_path / "s", "serial").table
    process = run_sweep(plan, tmp_path / "p", "process", workers=2).table
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        dask = run_sweep(plan, tmp_path / "d", "dask", scheduler=cluster.scheduler_address).table
    assert len(serial) == 10 * 3
    pd.testing.assert_frame_equal(serial, process, check_exact=True)
    pd.testing.assert_frame_equal(serial, dask, check_exact=True)
    assert (tmp_path / "s" / "sweep.csv").read_bytes() == (tmp_path / "d" / "sweep.csv").read_bytes()


def test_failing_point_is_reported_and_rerun_computes_only_it(tmp_path, monkeypatch):
    plan = plan_sweep(SMALL, GRID)
    bad = plan.points[3]
    real = executors.compute_point

    def flaky(config, engine):
        if config["input"]["T"] == bad.config["input"]["T"] and \
                config["network"]["width_multiplier"] == bad.config["network"]["width_multiplier"]:
            raise RuntimeError("boom")
        return real(config, engine)

    monkeypatch.setattr(executors, "compute_point", flaky)
    logged = []
    res = run_sweep(plan, tmp_path, "serial", log=logged.append)
    assert res.failures == {bad.key: "RuntimeError: boom"}
    assert len(res.computed) == len(plan.points) - 1
    assert any(f"input.T={bad.settings['input.T']} " in m and "boom" in m for m in logged)
    fails = json.loads((tmp_path / "failures.json").read_text())
    assert fails[0]["settings"] == bad.settings
    assert bad.key not in set(res.table["point"])
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "points").iterdir()}

    monkeypatch.setattr(executors, "compute_point", real)
    again = run_sweep(plan, tmp_path, "serial")
    assert again.computed == [bad.key] and len(again.skipped) == len(plan.points) - 1
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())  # stored points untouched
    assert json.loads((tmp_path / "failures.json").read_text()) == []
    fresh = run_sweep(plan, tmp_path / "fresh", "serial").table
    pd.testing.assert_frame_equal(again.table, fresh, check_exact=True)
    forced = run_sweep(plan, tmp_path, "serial", force=True)
    assert len(forced.computed) == len(plan.points) and not forced.skipped


def test_corrupt_point_file_is_detected_and_recomputed(tmp_path):
    plan = plan_sweep(SMALL, {"T": "1..8*2"})
    first = run_sweep(plan, tmp_path, "serial").table
    store = PointStore(tmp_path)
    truncated, edited = plan.points[0].key, plan.points[2].key
    p = store.path(truncated)
    p.write_bytes(p.read_bytes()[:40])
    body = json.loads(store.path(edited).read_text())
    body["result"]["summary"]["data"][0][2] *= 2  # a silent edit: the digest no longer matches
    store.path(edited).write_text(json.dumps(body))
    logged = []
    res = run_sweep(plan, tmp_path, "serial", log=logged.append)
    assert sorted(res.corrupt) == sorted([truncated, edited]) == sorted(res.computed)
    assert len(logged) == 2 and all("corrupt point file" in m for m in logged)
    pd.testing.assert_frame_equal(res.table, first, check_exact=True)


N_KILL = 64  # points in the interrupted sweeps: enough runway to interrupt them on a loaded machine


def _start_and_wait(tmp_path, executor: str, at_least: int = 3):
    """Start a CLI sweep of the DVS workload over T = 1..N_KILL in its own process group and
    return (process, out folder) once ``at_least`` points are stored."""
    out = tmp_path / "sw"
    cmd = [sys.executable, "-m", "tess_sim.cli", "sweep", str(WORKLOADS / "dvs.yaml"), "--set", f"T=1..{N_KILL}",
           "--executor", executor, "--workers", "2", "--out", str(out), "--no-plot"]
    # a terminal's child: Ctrl-C not ignored, even when pytest itself runs as a background job
    proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if (out / "points").exists() and len(list((out / "points").glob("*.json"))) >= at_least:
            break
        time.sleep(0.01)
    return proc, out


def _rerun_counting(out: Path, monkeypatch, plan=None) -> tuple:
    """Re-run the sweep with a stand-in point function that records what it is asked to compute
    (and returns a stored point's result): (keys computed, result of the re-run)."""
    stored = {p.stem for p in (out / "points").glob("*.json")}
    canned = PointStore(out).read(next(iter(stored)))[1]["result"]
    asked = []
    monkeypatch.setattr(executors, "compute_point", lambda config, engine: asked.append(config) or canned)
    res = run_sweep(plan or plan_sweep(WORKLOADS / "dvs.yaml", [f"T=1..{N_KILL}"]), out, "serial")
    return stored, asked, res


def test_sigkill_loses_only_points_in_flight(tmp_path, monkeypatch):
    proc, out = _start_and_wait(tmp_path, "serial")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "sweep.csv").exists()
    stored, asked, res = _rerun_counting(out, monkeypatch)
    assert 3 <= len(stored) < N_KILL, "the sweep finished before it could be killed"
    assert set(res.skipped) == stored and not res.corrupt  # no half-written point file
    assert len(asked) == len(res.computed) == N_KILL - len(stored)
    assert sorted(c["input"]["T"] for c in asked) == sorted(
        p.settings["input.T"] for p in res.plan.points if p.key not in stored)
    assert len(res.table) == N_KILL * 3


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_ctrl_c_exits_130_quietly_and_keeps_finished_points(tmp_path, monkeypatch, executor):
    proc, out = _start_and_wait(tmp_path, executor)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err.decode() and "run the same command again" in err.decode()
    stored, asked, res = _rerun_counting(out, monkeypatch)
    assert 3 <= len(stored) < N_KILL
    assert set(res.skipped) == stored and len(asked) == N_KILL - len(stored)


def _dies_at_T8(config, engine):
    """Runs in a forked pool worker: the worker process is SIGKILLed at T = 8."""
    if config["input"]["T"] == 8:
        os.kill(os.getpid(), signal.SIGKILL)
    return compute_point(config, engine)


def test_killed_pool_worker_loses_only_unfinished_points(tmp_path, monkeypatch):
    import multiprocessing

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("needs forked workers to inherit the patched function")
    monkeypatch.setattr(executors, "compute_point", _dies_at_T8)
    plan = plan_sweep(SMALL, {"T": "1..64*2"})
    res = run_sweep(plan, tmp_path, "process", workers=1)
    t8 = next(p.key for p in plan.points if p.settings["input.T"] == 8)
    assert t8 in res.failures, res.failures
    assert all("BrokenProcessPool" in e for e in res.failures.values()), res.failures
    assert set(res.computed) | set(res.failures) == {p.key for p in plan.points}
    monkeypatch.undo()
    again = run_sweep(plan, tmp_path, "serial")
    assert set(again.computed) == set(res.failures) and set(again.skipped) == set(res.computed)
    assert len(again.table) == 7 * 3



def test_extra_columns_and_tables_of_a_run_are_carried(tmp_path, monkeypatch):
    """What other engines / cost models add to Results (summary columns, extra DataFrames) reaches
    the sweep table and sweep_<name>.csv unchanged."""
    import dataclasses

    from tess_sim import api
    from tess_sim.sweeps import point

    @dataclasses.dataclass
    class Timed(api.Results):
        timing: pd.DataFrame = None

    def run_timed(wl, engine="analytical"):
        r = api.run(wl, engine)
        s = r.summary.assign(energy_pJ=lambda d: d["ops_total"] * 0.5, cycles=float(wl.input.T) * 7)
        timing = pd.DataFrame({"phase": ["fwd", "bwd"], "cycles": [wl.input.T * 3, wl.input.T * 4]})
        return Timed(r.workload, r.net, r.activity, r.engine, r.ledger, s, timing)

    monkeypatch.setattr(point, "run", run_timed)
    plan = plan_sweep(SMALL, {"T": "2,4"})
    res = run_sweep(plan, tmp_path, "serial")
    t = res.table.set_index(["input.T", "rule"])
    assert (t["energy_pJ"] == t["ops_total"] * 0.5).all() and (t.loc[4, "cycles"] == 28.0).all()
    timing = pd.read_csv(tmp_path / "sweep_timing.csv")
    assert list(timing.columns) == ["input.T", "point", "phase", "cycles"]
    assert timing["cycles"].tolist() == [6, 8, 12, 16]
    # resumed from the store: the same tables
    again = run_sweep(plan, tmp_path, "serial")
    assert not again.computed
    pd.testing.assert_frame_equal(again.tables["timing"], res.tables["timing"], check_exact=True)


def test_result_from_a_worker_of_another_version_is_a_failure(tmp_path, monkeypatch):
    real = executors.compute_point
    monkeypatch.setattr(executors, "compute_point", lambda c, e: dict(real(c, e), version="0.0.0-other"))
    plan = plan_sweep(SMALL, {"T": "1,2"})
    res = run_sweep(plan, tmp_path, "serial")
    assert not res.computed and set(res.failures) == {p.key for p in plan.points}
    assert all("runs tess-sim 0.0.0-other" in e for e in res.failures.values())
    assert not list((tmp_path / "points").glob("*.json"))


def test_energy_columns_from_the_workloads_cost_models(tmp_path):
    """cost_models is a sweepable key; the energy columns equal cost_report on a direct run."""
    from tess_sim.cost_models import cost_report

    from tess_sim.api import run
    from tess_sim.api import load

    plan = plan_sweep(SMALL, {"T": "2,4", "cost_models": "[horowitz45],[counts]"})
    res = run_sweep(plan, tmp_path, "serial")
    for T in (2, 4):
        wl = load(SMALL)
        wl.input.T = T
        direct = cost_report(run(wl, "analytical"), specs=["horowitz45"]).summary.set_index("rule")
        got = res.table[(res.table["input.T"] == T) & (res.table["cost_models"].astype(str) == "['horowitz45']")]
        got = got.set_index("rule")
        assert (got["energy_model"] == "horowitz45").all()
        for part in ("compute", "sram", "dram"):
            assert np.allclose(got[f"energy_{part}_pJ"], direct.loc[got.index, part], rtol=1e-12)
        assert np.allclose(got["energy_pJ"], direct.loc[got.index, "total"], rtol=1e-12)
    counts = res.table[res.table["cost_models"].astype(str) == "['counts']"]
    assert counts["energy_pJ"].isna().all()  # the counts model prices in counts, not pJ
    assert set(res.tables["energy"]["model"]) == {"horowitz45", "counts"}


def test_simpy_engine_sweep_identical_serial_and_process(tmp_path):
    plan = plan_sweep(SMALL, {"hardware.pe.units": "4,64", "T": "2,4"}, engine="simpy")
    serial = run_sweep(plan, tmp_path / "s", "serial")
    process = run_sweep(plan, tmp_path / "p", "process", workers=2)
    assert {"cycles", "latency_ms"} <= set(serial.table.columns) and serial.table["cycles"].gt(0).all()
    pd.testing.assert_frame_equal(serial.table, process.table, check_exact=True)
    pd.testing.assert_frame_equal(serial.tables["timing"], process.tables["timing"], check_exact=True)
    # more PEs never make a sample slower
    c = serial.table.pivot_table(index=["input.T", "rule"], columns="hardware.pe.units", values="cycles")
    assert (c[64] <= c[4]).all()


def test_first_ctrl_c_waits_for_a_safe_point_second_interrupts():
    stop = executors.Interrupts()
    with stop:
        os.kill(os.getpid(), signal.SIGINT)  # delivered to this (main) thread
        time.sleep(0.05)
        assert stop.requested  # flagged, nothing raised mid-operation
        with pytest.raises(KeyboardInterrupt):
            stop.check()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) != stop._handler  # restored


# --------------------------------------------------------------------------- workers die with the sweep
def _alive(pids) -> set[int]:
    """The pids that are still running (a zombie waiting for its reaper is not)."""
    out = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in "ZX":
            out.add(pid)
    return out


def _children(pid: int) -> set[int]:
    """Running processes whose parent is ``pid`` (a /proc scan)."""
    kids = set()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.add(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return _alive(kids)


N_SLOW = 160  # SimPy points of small.yaml (~0.2 s each): far more than a killed run gets through


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
def test_sigkilled_sweep_leaves_no_worker_and_resumes(tmp_path, monkeypatch):
    """SIGKILL the sweep while its pool computes, again and again on the same folder: within 3 s
    no worker of it is left; every restart resumes (a survivor would hold the folder's lock and
    the restart would refuse with exit 2); the last re-run finds every stored point valid and no
    temporary file."""
    out = tmp_path / "sw"
    sets = [f"T=1..{N_SLOW}"]
    cmd = [sys.executable, "-m", "tess_sim.cli", "sweep", str(SMALL), "--set", *sets, "--engine", "simpy",
           "--executor", "process", "--workers", "2", "--out", str(out), "--no-plot"]
    kills, seen, t0 = 0, set(), time.monotonic()
    try:
        while kills < 5 and (kills < 2 or time.monotonic() - t0 < 10):
            proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            workers, deadline = set(), time.monotonic() + 60
            while proc.poll() is None and len(workers) < 2 and time.monotonic() < deadline:
                workers = _children(proc.pid)
                time.sleep(0.02)
            assert proc.poll() is None and len(workers) >= 2, proc.communicate()[1].decode()
            seen |= workers
            if kills == 1:  # once after some points are stored (resumed by the next start), else at once or soon
                while proc.poll() is None and not list((out / "points").glob("*.json")) and time.monotonic() < deadline:
                    time.sleep(0.02)
            time.sleep((0.0, 0.1, 0.3, 0.8, 0.5)[kills])
            proc.kill()
            proc.wait()
            kills += 1
            gone_by = time.monotonic() + 3
            while _alive(workers) and time.monotonic() < gone_by:
                time.sleep(0.02)
            assert not _alive(workers), f"kill {kills}: workers {_alive(workers)} outlived their parent"
    finally:
        for pid in _alive(seen):  # only on failure: do not leave them running
            os.kill(pid, signal.SIGKILL)
    assert kills >= 2
    plan = plan_sweep(SMALL, sets, engine="simpy")
    stored, asked, res = _rerun_counting(out, monkeypatch, plan)
    assert 1 <= len(stored) < N_SLOW
    assert set(res.skipped) == stored and not res.corrupt and not res.stale
    assert len(asked) == N_SLOW - len(stored)
    assert not list(out.glob(".*.tmp")) and not list((out / "points").glob(".*.tmp"))


@pytest.mark.parametrize("how", ["prctl", "poll"])
def test_pool_worker_set_up_dies_with_its_parent(tmp_path, how):
    """init_child in a forked child of an intermediate process: SIGKILL the intermediate and the
    child goes too, by the kernel (prctl) or by the fallback thread polling getppid()."""
    script = (
        "import os, sys, time\n"
        "from tess_sim import children\n"
        + ("children._set_pdeathsig = lambda sig=None: False\n" if how == "poll" else "")
        + "pid = os.fork()\n"
        "if pid == 0:\n"
        "    children.init_child(os.getppid())\n"
        "    import ctypes, threading\n"
        "    sig = ctypes.c_int(0)\n"
        "    ctypes.CDLL(None).prctl(2, ctypes.byref(sig), 0, 0, 0)\n"  # PR_GET_PDEATHSIG
        "    watch = [t.name for t in threading.enumerate() if t.name == 'tess-sim-parent-watch']\n"
        "    sys.stdout.write(f'{os.getpid()} {sig.value} {len(watch)}\\n')\n"
        "    sys.stdout.flush()\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.PIPE)
    child = None
    try:
        child, pdeathsig, watchers = map(int, proc.stdout.readline().split())
        assert (pdeathsig, watchers) == ((signal.SIGKILL, 0) if how == "prctl" else (0, 1))
        time.sleep(0.3)
        assert _alive([child]), "the worker set-up killed a worker whose parent lives"
        proc.kill()
        proc.wait()
        gone_by = time.monotonic() + 3
        while _alive([child]) and time.monotonic() < gone_by:
            time.sleep(0.02)
        assert not _alive([child])
    finally:
        proc.kill()
        proc.wait()
        if child is not None and _alive([child]):
            os.kill(child, signal.SIGKILL)
