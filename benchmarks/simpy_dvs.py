"""Benchmark: the SimPy engine on the DVS Gesture workload (VGG-9, T = 20, one sample, tile
granularity) for each rule — wall time, SimPy events processed, events per second, and the ratio of
SimPy-engine wall time to analytical-engine wall time, measured side by side in one run.

    python benchmarks/simpy_dvs.py [--granularity tile] [--repeat 3] [--cores 4] [--workload W.yaml]

Goal (issue #4): under 5 s per rule per sample.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tess_sim.simulator.activity import build_activity  # noqa: E402
from tess_sim.simulator.rules import build_rules
from tess_sim.simulator.engines.analytical import run_analytical  # noqa: E402
from tess_sim.simulator.engines.simpy.engine import CoreSim  # noqa: E402
from tess_sim.simulator.mapping import core_of_layers  # noqa: E402
from tess_sim.simulator.network import build_network  # noqa: E402
from tess_sim.simulator.placement import place  # noqa: E402
from tess_sim.api import load  # noqa: E402


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", default=str(ROOT / "workloads" / "dvs.yaml"))
    ap.add_argument("--granularity", default="tile", choices=["event", "tile", "phase"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cores", type=int, default=None, help="override hardware.cores (mapping auto)")
    a = ap.parse_args()
    wl = load(a.workload)
    if a.cores:
        wl = wl.model_copy(update={"hardware": wl.hardware.model_copy(update={"cores": a.cores, "mapping": "auto"})})
    net = build_network(wl)
    act = build_activity(net, wl.activity)
    hw, batch = wl.hardware, wl.input.batch
    cores = core_of_layers(net, hw)
    rules = build_rules(wl, net)
    placement = place(run_analytical(rules, act, hw.precision, batch), hw)
    print(f"{wl.name}: T = {net.T}, {len(net.blocks)} blocks, activity {act.source}, hardware {hw.name} "
          f"({hw.cores} core{'s' if hw.cores > 1 else ''}), "
          f"granularity {a.granularity} (tile {wl.simulation.tile}), best of {a.repeat}")
    print(f"{'rule':6s} {'simpy s':>8s} {'analytical s':>12s} {'ratio':>8s} {'tasks':>8s} {'events':>8s} "
          f"{'events/s':>9s} {'cycles':>14s}")
    for rule in rules:
        t_an, _ = best_of(lambda: run_analytical([rule], act, hw.precision, batch), a.repeat)

        def simulate_rule():
            return CoreSim(rule, rule.works(act), net, hw, placement, cores, a.granularity,
                           wl.simulation.tile, batch).run()

        t_sim, r = best_of(simulate_rule, a.repeat)
        tasks = int(r.timing[(r.timing.scope == "sample") & (r.timing.metric == "tasks")]["value"].iloc[0])
        print(f"{rule.name:6s} {t_sim:8.2f} {t_an:12.4f} {t_sim / t_an:8.0f} {tasks:8d} {r.events:8d} "
              f"{r.events / t_sim:9.0f} {r.cycles:14,.0f}")


if __name__ == "__main__":
    main()
