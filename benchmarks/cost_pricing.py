"""Benchmark: what pricing a ledger costs relative to producing it, measured side by side in one run.

    python benchmarks/cost_pricing.py [workloads/dvs.yaml]

Reports the median time of the analytical run, of the placement (place + with_memory, which the
engines run; pricing refuses a ledger without its memory column) and of pricing with each
built-in model, and their ratios to the run (timings on a shared machine are noisy; the ratios
are what to compare).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tess_sim.cost_models import cost_report, load_cost_model, price  # noqa: E402
from tess_sim.api import load, run  # noqa: E402
from tess_sim.simulator.placement import place, with_memory  # noqa: E402


def median_time(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(path: str = "workloads/dvs.yaml") -> None:
    wl = load(path)
    res = run(wl)  # its ledger has the memory column (the engine placed every access)
    hw = wl.hardware
    raw = res.ledger[res.ledger["convention"] == "full"].drop(columns="memory")
    raw = raw.groupby(["convention", "rule", "layer", "phase", "unit", "action", "bits", "term"],
                      as_index=False, sort=False)["count"].sum()  # a ledger from elsewhere
    t_run = median_time(lambda: run(wl))
    t_place = median_time(lambda: with_memory(raw, place(raw, hw)))
    print(f"{path}: ledger {len(res.ledger)} rows; analytical run {t_run * 1e3:.1f} ms (= 1)")
    print(f"  placement (place + with_memory)       {t_place * 1e3:8.1f} ms  {t_place / t_run:6.2f}× run")
    for name in ("counts", "horowitz45", "cacti28"):
        model = load_cost_model(name)
        t_given = median_time(lambda: price(res.ledger, hw, model, res.seconds, res.seconds_basis))
        print(f"  price {name:<11}                      {t_given * 1e3:8.1f} ms  {t_given / t_run:6.2f}× run")
    t_rep = median_time(lambda: cost_report(res, ["counts", "horowitz45", "cacti28"]))
    print(f"  cost_report, all three models          {t_rep * 1e3:8.1f} ms  {t_rep / t_run:6.2f}× run")


if __name__ == "__main__":
    main(*sys.argv[1:])
