"""Benchmark: how the SimPy engine scales in T — ``run(wl, engine="simpy")`` on workloads/dvs.yaml
(VGG-9, dense activity, edge hardware, tile granularity, all three rules) at T = 20, 200, 2,000,
each in a fresh subprocess; prints wall seconds, seconds per simulated step and the child's peak
RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, MiB).

    python benchmarks/simpy_scale.py [--T 20 200 2000] [--workload W.yaml] [--baseline SRC_DIR]

``--baseline SRC_DIR`` also runs every point on another source tree (e.g. a ``git archive`` of an
older commit unpacked in /tmp), alternating with this tree's run so both see the same machine load,
and prints the ratios. Goal (issue 15 item 8): peak RSS flat in T (within 20 % from T = 20 to
T = 2,000) and 5× less time per simulated step than before the streaming engine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
from tess_sim.api import run
from tess_sim.api import load
wl = load(sys.argv[1], overrides={"T": int(sys.argv[2])})
t0 = time.perf_counter()
res = run(wl, engine="simpy")
sec = time.perf_counter() - t0
cyc = res.timing[(res.timing.scope == "sample") & (res.timing.metric == "cycles")]["value"].tolist()
print(json.dumps({"seconds": sec, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "cycles": cyc}))
"""


def measure(src: Path, workload: str, T: int) -> dict:
    """One run in a fresh interpreter with ``src`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", CHILD, workload, str(T)], env=env, cwd=str(src),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def line(label: str, T: int, m: dict) -> str:
    return f"{label:9s} {T:6d} {m['seconds']:9.2f} {1e3 * m['seconds'] / T:10.2f} {m['rss_mib']:9.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", default=str(ROOT / "workloads" / "dvs.yaml"))
    ap.add_argument("--T", type=int, nargs="+", default=[20, 200, 2000])
    ap.add_argument("--baseline", type=Path, default=None, help="another source tree to compare with")
    a = ap.parse_args()
    workload = str(Path(a.workload).resolve())
    print(f"{Path(workload).name}, engine simpy, all rules, one sample, each point a fresh process")
    print(f"{'tree':9s} {'T':>6s} {'seconds':>9s} {'ms/step':>10s} {'peak MiB':>9s}")
    rss = {}
    for T in a.T:
        trees = [("this", ROOT)] + ([("baseline", a.baseline.resolve())] if a.baseline else [])
        got = {}
        for label, src in trees:
            got[label] = measure(src, workload, T)
            print(line(label, T, got[label]), flush=True)
        rss[T] = got["this"]["rss_mib"]
        if a.baseline:
            b, t = got["baseline"], got["this"]
            same = "same cycles" if b["cycles"] == t["cycles"] else f"CYCLES DIFFER {b['cycles']} vs {t['cycles']}"
            print(f"{'ratio':9s} {T:6d} time/step baseline ÷ this = {b['seconds'] / t['seconds']:.1f}×, "
                  f"peak RSS this ÷ baseline = {t['rss_mib'] / b['rss_mib']:.2f}; {same}", flush=True)
    lo, hi = min(rss), max(rss)
    print(f"peak RSS at T = {hi} ÷ at T = {lo}: {rss[hi] / rss[lo]:.2f}")


if __name__ == "__main__":
    main()
