"""Background work in a forked child (tess_sim.children.Background), as the run command uses it
to draw complexity.png on the second core: the same value as in the caller, the child's errors
raised in the caller (a UserError still exits 2), a dead child reported, an uncollected child
stopped; and the run command's own process never imports matplotlib."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tess_sim import children
from tess_sim.children import FORK, Background
from tess_sim.cli import main
from tess_sim.simulator.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
forking = pytest.mark.skipif(not FORK, reason="fork is Linux-only here; Background works in the caller elsewhere")


def _square_sum(a: np.ndarray, k: int) -> tuple[float, int]:
    return float((a ** 2).sum()) * k, os.getpid()


def _fails(where: str) -> None:
    raise UserError(where, "report.plots", "a reason")


def _dies() -> None:
    os._exit(3)


def _sleeps() -> int:
    time.sleep(60)
    return os.getpid()


def test_user_error_pickles_whole():
    e = pickle.loads(pickle.dumps(UserError("w.yaml", "a.b", "why")))
    assert (type(e), e.where, e.field, e.reason, e.line()) == (UserError, "w.yaml", "a.b", "why", "w.yaml: a.b: why")


@forking
def test_the_child_computes_what_the_caller_would():
    a = np.arange(1000, dtype=float)
    with Background(_square_sum, a, 3) as job:
        value, pid = job.result()
    here, here_pid = Background(_square_sum, a, 3, fork=False).result()
    assert value == here == 3 * float((a ** 2).sum())
    assert pid != os.getpid() and here_pid == os.getpid()
    with pytest.raises(RuntimeError, match="already called"):
        job.result()


@forking
def test_a_user_error_in_the_child_is_raised_here():
    with Background(_fails, "w.yaml") as job:
        with pytest.raises(UserError) as info:
            job.result()
    assert info.value.line() == "w.yaml: report.plots: a reason"


@forking
def test_a_dead_child_is_reported():
    with Background(_dies) as job:
        with pytest.raises(RuntimeError, match=r"exit code 3\) without a result"):
            job.result()


@forking
def test_leaving_the_block_stops_an_uncollected_child():
    with Background(_sleeps) as job:
        proc = job._proc
        assert proc.is_alive()
    assert not proc.is_alive() and proc.exitcode is not None


def test_without_fork_the_caller_does_the_work(monkeypatch):
    monkeypatch.setattr(children, "FORK", False)
    job = Background(_square_sum, np.ones(4), 2)
    assert job._proc is None and job.result() == (8.0, os.getpid())


def test_run_writes_the_same_files_with_and_without_the_child(tmp_path, monkeypatch):
    """complexity.png (and every other file) is the same drawn in a child or in the caller."""
    args = ["run", "workloads/small.yaml", "--hardware", "workloads/hw/sata.yaml"]
    runner = CliRunner()
    monkeypatch.chdir(ROOT)
    first = runner.invoke(main, args + ["--out", str(tmp_path / "child")])
    monkeypatch.setattr(children, "FORK", False)
    second = runner.invoke(main, args + ["--out", str(tmp_path / "caller")])
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    a, b = tmp_path / "child", tmp_path / "caller"
    names = sorted(p.name for p in a.iterdir())
    assert "complexity.png" in names and names == sorted(p.name for p in b.iterdir())
    for name in ("complexity.png", "summary.csv", "ledger.csv", "mapping.csv", "timing.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_the_run_command_process_imports_no_matplotlib():
    """The run command's module (and everything it imports) leaves matplotlib to the child that
    draws: the import is ~0.5 s of the command's critical path otherwise."""
    code = "import sys, tess_sim.commands.run; print(sorted(m for m in sys.modules if m.startswith('matplotlib')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
