"""The command line's output and process behaviour: bad or unwritable output paths, read-only and
full file systems (a real tmpfs where mounting works, and a simulated OSError at every write),
non-finite results, Ctrl-C, a closed stdout, usage errors, --set everywhere and `reckon` on a
workload that is not ReckOn-like. Each case: the exit code, one line on stderr, no traceback,
nothing partial written."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tess_sim.cli import main

from .conftest import ROOT, WORKLOADS

SMALL = str(WORKLOADS / "small.yaml")
DIGITS = str(WORKLOADS / "digits.yaml")
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
RUN = ["run", SMALL, "--engine", "analytical", "--no-plot"]
SWEEP = ["sweep", SMALL, "--set", "input.T=2,4", "--executor", "serial", "--no-plot"]


def cli(*args, timeout=120, **kw):
    """``python -m tess_sim ARGS`` in a subprocess (text output)."""
    return subprocess.run([sys.executable, "-m", "tess_sim.cli", *map(str, args)], capture_output=True,
                          text=True, env=ENV, cwd=kw.pop("cwd", ROOT), timeout=timeout, **kw)


def one_error_line(stderr: str, code_line_start: str = "error: ") -> str:
    """The single stderr line (asserting there is exactly one, and no traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(code_line_start), stderr
    return lines[0]


def invoke(args):
    return CliRunner().invoke(main, [str(a) for a in args])


def in_process_error(r, code=2) -> str:
    assert r.exit_code == code, r.output
    return one_error_line(r.stderr, "error: " if code == 2 else "internal error: ")


def can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("mount"):
        return False
    return subprocess.run(["unshare", "-m", "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", "/mnt"],
                          capture_output=True).returncode == 0


MOUNT = can_mount()
needs_mount = pytest.mark.skipif(not MOUNT, reason="mounting a tmpfs is not possible here (needs root and "
                                                   "mount namespaces); the simulated-OSError tests cover it")


# ---------------------------------------------------------------- finished folders and input files

@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished run folder and a finished sweep folder."""
    base = tmp_path_factory.mktemp("finished")
    assert invoke(RUN + ["--out", base / "run"]).exit_code == 0
    assert invoke(SWEEP + ["--out", base / "sweep"]).exit_code == 0
    return base


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    """W.npz and D.npz for small.yaml (T steps given by the fixture user)."""
    from tess_sim.simulator.functional.network import init_scheme
    from tess_sim.simulator.network import build_network
    from tess_sim.api import load

    base = tmp_path_factory.mktemp("golden")
    wl = load(SMALL)
    w = init_scheme(build_network(wl), 3, "paper", np.float64)
    np.savez(base / "W.npz", **w)
    rng = np.random.default_rng(0)
    for T in (2, wl.input.T):
        x = (rng.random((T, 2, *wl.input.shape)) < 0.3).astype(np.float64)
        np.savez(base / f"D{T}.npz", x=x, labels=np.array([0, 1]))
    return base


@pytest.fixture
def ro_dir(tmp_path, finished):
    """A read-only tmpfs holding a finished run folder (run/) and sweep folder (sweep/)."""
    if not MOUNT:
        pytest.skip("mounting a tmpfs is not possible here; see the simulated-OSError tests")
    d = tmp_path / "ro"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(d)], check=True)
    try:
        shutil.copytree(finished / "run", d / "run")
        shutil.copytree(finished / "sweep", d / "sweep")
        subprocess.run(["mount", "-o", "remount,ro", str(d)], check=True)
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], check=False)


def commands(out: Path, golden: Path, finished: Path, kind: str) -> dict[str, list]:
    """Every command with ``out`` as its output (plot/report: a FOLDER that is ``out``)."""
    return {"run": RUN + ["--out", out], "sweep": SWEEP + ["--out", out],
            "train": ["train", DIGITS, "--epochs", "1", "--rule", "bptt", "--out", out],
            "grad": ["grad", SMALL, "--weights", golden / "W.npz", "--data", golden / "D4.npz", "--rule", "tess",
                     "--out", out / "G.npz" if kind != "file" else out],
            "plot": ["plot", out], "report": ["report", out]}


# ---------------------------------------------------------------- 10.3: every bad --out

@pytest.mark.parametrize("kind", ["proc", "file", "under_file"])
def test_bad_out_of_every_command_is_one_line_exit_2(tmp_path, golden, finished, kind, monkeypatch):
    import tess_sim.commands.train as train_command

    monkeypatch.setattr(train_command, "train_workload", lambda *a, **k: pytest.fail("trained before checking --out"))
    (tmp_path / "afile").write_text("x")
    out = {"proc": Path("/proc/tess-sim-x"), "file": tmp_path / "afile", "under_file": tmp_path / "afile" / "sub"}[kind]
    for name, args in commands(out, golden, finished, kind).items():
        if kind == "file" and name == "grad":
            continue  # an existing G.npz is replaced: a folder is grad's bad --out (test_usage_errors_are_one_line)
        r = invoke(args)
        line = in_process_error(r)
        assert str(out) in line or "--out" in line or "FOLDER" in line, (name, line)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"] and (tmp_path / "afile").read_text() == "x"


def test_bad_out_subprocess_each_command(tmp_path, golden, finished):
    """Through the real entry point: exit 2, one line naming the path, no traceback, nothing written."""
    (tmp_path / "afile").write_text("x")
    cases = [(RUN + ["--out", "/proc/tess-sim-x"], "/proc/tess-sim-x: cannot write"),
             (["train", DIGITS, "--epochs", "1", "--out", tmp_path / "afile" / "t"], f"{tmp_path / 'afile' / 't'}: cannot write"),
             (["grad", SMALL, "--weights", golden / "W.npz", "--data", golden / "D4.npz", "--rule", "tess",
               "--out", "/proc/G.npz"], "/proc/G.npz: cannot write")]
    for args, want in cases:
        r = cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert one_error_line(r.stderr).startswith(f"error: {want}"), r.stderr
        assert r.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_missing_parent_of_a_folder_output_is_created(tmp_path):
    out = tmp_path / "a" / "b" / "run"
    assert invoke(RUN + ["--out", out]).exit_code == 0
    assert (out / "summary.csv").exists()


def test_read_only_folder_every_command(ro_dir, golden, finished, monkeypatch):
    import tess_sim.commands.train as train_command

    monkeypatch.setattr(train_command, "train_workload", lambda *a, **k: pytest.fail("trained before checking --out"))
    before = sorted(str(p.relative_to(ro_dir)) for p in ro_dir.rglob("*"))
    cases = {"run": RUN + ["--out", ro_dir / "new"], "re-run": RUN + ["--out", ro_dir / "run"],
             "sweep": SWEEP + ["--out", ro_dir / "s"], "finished sweep": SWEEP + ["--out", ro_dir / "sweep"],
             "plot": ["plot", ro_dir / "sweep"], "report": ["report", ro_dir / "run"],
             "train": ["train", DIGITS, "--epochs", "1", "--out", ro_dir / "t"],
             "grad": ["grad", SMALL, "--weights", golden / "W.npz", "--data", golden / "D4.npz", "--rule", "tess",
                      "--out", ro_dir / "G.npz"]}
    for name, args in cases.items():
        line = in_process_error(invoke(args))
        assert "read-only file system" in line and str(ro_dir) in line, (name, line)
    assert sorted(str(p.relative_to(ro_dir)) for p in ro_dir.rglob("*")) == before


# ---------------------------------------------------------------- 15.4: full and read-only file systems

def in_namespace(script: str, timeout=120):
    """Run a shell script in a private mount namespace (its mounts vanish with it)."""
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=ENV,
                          cwd=ROOT, timeout=timeout)


@needs_mount
def test_full_tmpfs_run_leaves_nothing_and_read_only_tmpfs_names_the_path(tmp_path):
    m = tmp_path / "m"
    m.mkdir()
    py = f"{sys.executable} -m tess_sim"
    run = " ".join(RUN)
    r = in_namespace(f"mount -t tmpfs -o size=48k tmpfs {m} && {py} {run} --out {m}/r; echo RC=$?; ls -A {m}")
    err, rest = r.stderr, r.stdout.split("RC=")[-1].split()
    assert rest[0] == "2" and rest[1:] == [], r.stdout       # exit 2, and the tmpfs holds nothing
    line = one_error_line(err)
    assert line.startswith(f"error: {m}/r/") and "no space left on device" in line
    assert "summary.csv" not in line                            # it failed part-way, not at the first file
    r = in_namespace(f"mount -t tmpfs -o ro,size=64k tmpfs {m} && {py} {run} --out {m}/r; echo RC=$?")
    assert r.stdout.strip().endswith("RC=2")
    assert one_error_line(r.stderr) == f"error: {m}/r: cannot write: read-only file system"


@needs_mount
def test_full_tmpfs_sweep_keeps_points_and_resumes(tmp_path):
    m = tmp_path / "m"
    m.mkdir()
    py = f"{sys.executable} -m tess_sim"
    sweep = f"sweep {SMALL} --set input.T=2,4,8,16 --executor serial --no-plot --out {m}/s"
    r = in_namespace(f"mount -t tmpfs -o size=24k tmpfs {m} && {py} {sweep} 2>&1; echo RC=$?; "
                     f"mount -o remount,size=2m {m} && {py} {sweep}; echo RC=$?")
    first, second = r.stdout.split("RC=")[:2]
    assert one_error_line(first.strip()).startswith(f"error: {m}/s/") and "no space left" in first
    assert second.split()[0] == "2" and r.stdout.strip().endswith("RC=0"), r.stdout
    assert "4 points" in r.stdout and "0 computed, 4 already stored" in r.stdout, r.stdout


class Inject:
    """Raise ``OSError(err)`` at the ``k``-th atomic write (``simulator.atomic._finish``)."""

    def __init__(self, monkeypatch, k, err):
        import tess_sim.simulator.atomic as atomic

        self.k, self.err, self.n, self.orig = k, err, 0, atomic._finish
        monkeypatch.setattr(atomic, "_finish", self)

    def __call__(self, fh):
        self.n += 1
        if self.n == self.k:
            raise OSError(self.err, os.strerror(self.err))
        self.orig(fh)


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def test_a_write_error_at_each_write_of_a_run_leaves_all_or_nothing(tmp_path, monkeypatch):
    counter = Inject(monkeypatch, 0, errno.ENOSPC)
    assert invoke(RUN + ["--out", tmp_path / "ref"]).exit_code == 0
    n = counter.n
    assert n >= 8
    old = tmp_path / "old"
    assert invoke(RUN + ["--out", old]).exit_code == 0
    (old / "weights_bptt.npz").write_bytes(b"a user's file")
    before = listing(old)
    reasons = {errno.ENOSPC: "no space left on device", errno.EROFS: "read-only file system",
               errno.EDQUOT: "disk quota exceeded", errno.EACCES: "permission denied"}
    for k in range(1, n + 1):  # odd k: into a new folder; even k: over a finished run
        err = list(reasons)[k % 4]
        out = tmp_path / "new" if k % 2 else old
        Inject(monkeypatch, k, err)
        line = in_process_error(invoke(RUN + ["--out", out]))
        assert line.startswith(f"error: {out}/") and line.endswith(f": cannot write: {reasons[err]}"), line
        assert listing(old) == before, k                       # the previous run is untouched
        assert sorted(p.name for p in tmp_path.iterdir()) == ["old", "ref"], k   # no new, no temporaries
    Inject(monkeypatch, 0, 0)
    assert invoke(RUN + ["--out", old]).exit_code == 0         # a good run replaces its files, keeps the user's
    assert (old / "weights_bptt.npz").read_bytes() == b"a user's file"
    assert listing(old).keys() == listing(tmp_path / "ref").keys() | {"weights_bptt.npz"}


def test_a_write_error_at_each_write_of_a_sweep_then_it_resumes(tmp_path, monkeypatch):
    counter = Inject(monkeypatch, 0, errno.ENOSPC)
    assert invoke(SWEEP + ["--out", tmp_path / "ref"]).exit_code == 0
    want = (tmp_path / "ref" / "sweep.csv").read_text()
    for k in range(1, counter.n + 1):
        out = tmp_path / f"s{k}"
        Inject(monkeypatch, k, errno.ENOSPC)
        line = in_process_error(invoke(SWEEP + ["--out", out]))
        assert line.startswith(f"error: {out}") and "no space left on device" in line
        Inject(monkeypatch, 0, 0)
        r = invoke(SWEEP + ["--out", out])
        assert r.exit_code == 0, r.output
        assert (out / "sweep.csv").read_text() == want       # stored points valid, the sweep completes


# ---------------------------------------------------------------- 15.3: every output number finite

@pytest.mark.parametrize("table,column,value", [("ledger", "count", np.inf), ("summary", "paper_mac_M", np.nan)])
def test_non_finite_result_is_an_internal_error_and_nothing_is_written(tmp_path, monkeypatch, table, column, value):
    import tess_sim.api as api
    import tess_sim.commands.run as run_command

    real = api.run

    def broken(*a, **k):
        res = real(*a, **k)
        df = getattr(res, table)
        df.loc[df.index[0], column] = value
        return res

    monkeypatch.setattr(run_command, "run", broken)  # the name `run` calls
    r = invoke(RUN + ["--out", tmp_path / "o"])
    line = in_process_error(r, code=1)
    assert f"{table}: column '{column}' has the non-finite value" in line
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- 10.7: Ctrl-C and closed pipes

STARTER = "import sys, tess_sim.cli as c; print('ready', flush=True); c.main()"


def start(*args):
    """The CLI with a 'ready' line once it is imported (so the signal lands in the command)."""
    p = subprocess.Popen([sys.executable, "-c", STARTER, *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    assert p.stdout.readline().strip() == "ready"
    return p


def test_ctrl_c_in_run_exits_130_leaving_nothing(tmp_path):
    out = tmp_path / "o"
    p = start("run", WORKLOADS / "dvs.yaml", "--engine", "simpy", "--set", "input.T=60", "--out", out)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    rest, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert one_error_line(err, "interrupted").startswith("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_in_train_keeps_the_finished_rules(tmp_path):
    import pandas as pd

    out = tmp_path / "t"
    p = start("train", DIGITS, "--rule", "bptt", "--rule", "stllr", "--epochs", "10", "--out", out)
    deadline = time.monotonic() + 90
    while not (out / "training.csv").exists():
        assert p.poll() is None and time.monotonic() < deadline, p.communicate()
        time.sleep(0.02)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    line = one_error_line(err, "interrupted")
    assert "weights_bptt.npz" in line and "training.csv" in line
    t = pd.read_csv(out / "training.csv", index_col="rule")
    assert list(t.index) == ["bptt"] and t.loc["bptt", "epochs"] == 10
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints", "training.csv", "training_log.csv", "weights_bptt.npz"]
    assert sorted(p.name for p in (out / "checkpoints").iterdir())[0] == "bptt.npz"  # stllr's too if an epoch ended
    w = np.load(out / "weights_bptt.npz")
    assert len(w.files) > 0 and all(np.isfinite(w[k]).all() for k in w.files)


@pytest.mark.parametrize("args", [["table", "paper"], RUN])
def test_closed_stdout_ends_quietly(tmp_path, args):
    args = args + (["--out", tmp_path / "o"] if args is RUN else [])
    r_fd, w_fd = os.pipe()
    os.close(r_fd)  # the reader is gone before the first line: `… | head -0`
    try:
        p = subprocess.run([sys.executable, "-m", "tess_sim.cli", *map(str, args)], stdout=w_fd,
                           stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT, timeout=120)
    finally:
        os.close(w_fd)
    assert p.returncode in (0, 141) and p.stderr == "", p.stderr
    if args[0] == "run":
        assert (tmp_path / "o" / "summary.csv").exists() and (tmp_path / "o" / "report.html").exists()


# ---------------------------------------------------------------- usage errors: one line

def test_usage_errors_are_one_line(tmp_path, golden):
    base = ["grad", SMALL, "--data", golden / "D4.npz", "--rule", "tess"]
    r = cli(*base, "--weights", tmp_path, "--out", tmp_path / "G.npz")
    assert r.returncode == 2 and one_error_line(r.stderr).startswith("error: --weights: ")
    assert str(tmp_path) in r.stderr
    r = cli(*base, "--weights", golden / "W.npz", "--out", tmp_path)
    assert r.returncode == 2 and one_error_line(r.stderr).startswith("error: --out: ")
    for args, start_ in [(["run", SMALL, "--engine", "nope"], "error: --engine: "), (["run"], "error: WORKLOAD: "),
                         (["run", SMALL, "--bogus"], "error: --bogus: no such option"),
                         (["nosuchcommand"], "error: ")]:
        r = invoke(args)
        assert r.exit_code == 2 and one_error_line(r.stderr).startswith(start_), (args, r.stderr)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- 10.8: --set for train, grad, reckon

def test_set_is_accepted_by_train_grad_and_reckon(tmp_path, golden):
    r = invoke(["train", DIGITS, "--rule", "bptt", "--set", "training.epochs=1", "--out", tmp_path / "t"])
    assert r.exit_code == 0, r.output
    first, second = r.output.splitlines()[:2]
    assert first.startswith("data: scikit-learn digits") and second.startswith("digits: 1 epochs")
    r = invoke(["grad", SMALL, "--weights", golden / "W.npz", "--data", golden / "D2.npz", "--rule", "tess",
                "--set", "input.T=2", "--out", tmp_path / "G.npz"])
    assert r.exit_code == 0, r.output
    assert np.load(tmp_path / "G.npz")["spikes"].shape[1] == 2    # T = 2 came from --set
    r = invoke(["reckon", "--set", "input.T=50"])
    assert r.exit_code == 0, r.output
    default = invoke(["reckon"]).output
    assert r.output.splitlines()[4] != default.splitlines()[4]      # the cacti28 row moved with T
    r = invoke(["train", DIGITS, "--set", "training.epoch=1", "--out", tmp_path / "t2"])
    assert r.exit_code == 2 and "training.epoch" in r.stderr and not (tmp_path / "t2").exists()


# ---------------------------------------------------------------- 10.10: reckon on a workload that is not ReckOn-like

def test_reckon_refuses_a_workload_that_is_not_reckon_like():
    r = cli("reckon", "workloads/dvs.yaml")
    assert r.returncode == 2 and r.stdout == ""
    line = one_error_line(r.stderr)
    assert line.startswith("error: workloads/dvs.yaml: not ReckOn-like, so not comparable")
    assert "hardware is 'edge'" in line and "e-prop" in line and "pJ/SOP" in line


def test_reckon_refuses_the_counts_model_and_defines_reckon_like():
    r = invoke(["reckon", "--cost-model", "counts"])
    assert r.exit_code == 2 and "pJ/SOP" not in r.stdout
    assert one_error_line(r.stderr).startswith("error: --cost-model: counts: prices no energy")
    r = invoke(["reckon", "--set", "rules.stllr.alpha_post=0.5"])
    assert r.exit_code == 2 and "is not e-prop as S-TLLR" in r.stderr
    text = " ".join(invoke(["reckon", "--help"]).output.split())
    assert "ReckOn-like" in text and "hardware name 'reckon'" in text and "alpha_post = 0" in text


def test_a_sweep_point_with_a_non_finite_result_fails_and_is_not_stored(tmp_path, monkeypatch):
    """15.3: the sweep checks each point's tables as `run` does; the bad point is a failure
    (failures.json names the column), the good ones are stored."""
    import tess_sim.api as api
    import tess_sim.sweeps.point as point
    from tess_sim.sweeps import sweep

    real = api.run  # not point.run: a test above may have imported point while api.run was patched

    def broken(wl, *a, **k):
        res = real(wl, *a, **k)
        if wl.input.T == 2:
            res.summary.loc[res.summary.index[0], "ops_total"] = np.inf
        return res

    monkeypatch.setattr(point, "run", broken)
    res = sweep(SMALL, {"T": [1, 2]}, out=tmp_path / "s", executor="serial")
    assert len(res.failures) == 1 and len(res.computed) == 1
    (error,) = res.failures.values()
    assert "summary: column 'ops_total' has the non-finite value inf" in error
    assert sorted(res.table["input.T"].unique()) == [1]
    assert np.isfinite(res.table.select_dtypes("number").to_numpy(dtype=float)).all()


@pytest.mark.parametrize("out", [".", "..", "sub/.."])
def test_run_out_the_current_folder_or_above_is_refused(tmp_path, out):
    """A run folder is replaced whole; the current folder (or one holding it) cannot be: exit 2,
    one line, and nothing in it touched (before: an OSError traceback from the rename)."""
    here = tmp_path / "here"
    (here / "sub").mkdir(parents=True)
    (here / "mine.txt").write_text("keep")
    r = subprocess.run([sys.executable, "-m", "tess_sim.cli", *RUN, "--out", out],
                       capture_output=True, text=True, env=ENV, cwd=here)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "is the current folder or holds it" in r.stderr
    assert sorted(p.name for p in here.iterdir()) == ["mine.txt", "sub"]
    assert list((here / "sub").iterdir()) == []


def test_run_out_with_a_dot_component_writes_the_named_folder(tmp_path):
    r = subprocess.run([sys.executable, "-m", "tess_sim.cli", *RUN, "--out", "a/."],
                       capture_output=True, text=True, env=ENV, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "summary.csv" in {p.name for p in (tmp_path / "a").iterdir()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_an_interrupt_a_library_turns_into_another_error_is_still_exit_130(tmp_path, monkeypatch):
    """Ctrl-C inside C code that reports it as another exception (pandas' to_json raises
    ValueError from "Maximum recursion level reached"), or that swallows it: exit 130, and the
    run folder is not committed."""
    import tess_sim.api as api
    from tess_sim import interrupt

    real = api.Results.to_dict
    before = signal.getsignal(signal.SIGINT)

    def converted(self):
        try:
            os.kill(os.getpid(), signal.SIGINT)  # the handler notes it and raises KeyboardInterrupt …
        except KeyboardInterrupt as exc:  # … which a library may turn into another error …
            raise ValueError("Unable to serialize object to JSON") from exc

    def swallowed(self):
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:  # … or drop
            pass
        return real(self)

    for fake, out in ((converted, tmp_path / "a"), (swallowed, tmp_path / "b")):
        monkeypatch.setattr(api.Results, "to_dict", fake)
        r = invoke(["run", SMALL, "--engine", "analytical", "--no-plot", "--out", out])
        assert r.exit_code == 130, r.output
        assert "interrupted" in r.stderr and not out.exists()
        assert not list(tmp_path.glob(".*.tmp"))
        assert not interrupt.fired() and signal.getsignal(signal.SIGINT) is before  # left as found
