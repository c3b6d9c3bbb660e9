"""Benchmark: the DVS Gesture T sweep (T = 1..1024, 11 points × 3 rules, analytical engine).

Measures in one run, on this machine: the full command line (`tess-sim sweep workloads/dvs.yaml
--set T=1..1024*2`, process executor, plots and report included) from a clean folder; the same
sweep computed serially and on local processes (no plots); and a re-run that finds every point
stored. Reports the times and their ratios.

    python benchmarks/sweep_dvs.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tess_sim.sweeps import plan_sweep, run_sweep  # noqa: E402


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="tess-sweep-bench-"))
    try:
        wl = ROOT / "workloads" / "dvs.yaml"
        cli = [sys.executable, "-m", "tess_sim.cli", "sweep", str(wl), "--set", "T=1..1024*2",
               "--out", str(tmp / "cli")]
        t_cli = timed(lambda: subprocess.run(cli, cwd=ROOT, check=True, capture_output=True))
        plan = plan_sweep(wl, ["T=1..1024*2"])
        t_serial = timed(lambda: run_sweep(plan, tmp / "serial", "serial"))
        t_process = timed(lambda: run_sweep(plan, tmp / "process", "process"))
        t_resume = timed(lambda: run_sweep(plan, tmp / "process", "process"))
        print(f"tess-sim sweep workloads/dvs.yaml --set T=1..1024*2 (CLI, process, plots + report): {t_cli:.1f} s")
        print(f"11 points × 3 rules, compute + table only: serial {t_serial:.2f} s, process {t_process:.2f} s "
              f"(process/serial = {t_process / t_serial:.2f})")
        print(f"re-run with every point stored: {t_resume:.3f} s (resume/fresh process = {t_resume / t_process:.3f})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
