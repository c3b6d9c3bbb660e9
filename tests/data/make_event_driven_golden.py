"""Write tests/data/event_driven_golden.csv.gz: the event_driven figures of the shipped workloads
(ledger per row key, cycles, energy) as the code at commit 6b15d9a printed them, before the
mapped dataflow existed. Run it with THAT version installed (a worktree at 6b15d9a):

    python tests/data/make_event_driven_golden.py tests/data/event_driven_golden.csv.gz

tests/test_event_driven_golden.py runs the same cases on the current code and compares.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from tess_sim.api import load, run
from tess_sim.cost_models import load_cost_model, price

HERE = Path(__file__).resolve().parent
WORKLOADS = HERE.parent.parent / "workloads"
#: (workload, hardware file or None for its own); every shipped workload on its own hardware,
#: dvs and small on every other event_driven preset and on the old sata
CASES = [(w, None) for w in ("cifar10", "cifar100", "cifar10dvs", "digits", "dvs", "reckon", "small")]
CASES += [(w, h) for w in ("dvs", "small") for h in ("hw/odin.yaml", "hw/reckon.yaml", "sata_event_driven.yaml")]


def hardware_path(h: str) -> Path:
    return WORKLOADS / h if h.startswith("hw/") else HERE / h


def case_rows(w: str, h: str | None) -> list[tuple]:
    wl = load(WORKLOADS / f"{w}.yaml", hardware=hardware_path(h) if h else None)
    res = run(wl, engine="simpy")
    case = f"{w}@{h or 'own'}"
    led = res.ledger[res.ledger["convention"] == "full"]
    keys = ["rule", "layer", "phase", "unit", "action", "bits", "term", "memory"]
    g = led.groupby(keys, sort=True)["count"].sum()
    rows = [(case, "ledger", "|".join(map(str, k)), float(v)) for k, v in g.items()]
    cyc = res.timing[(res.timing["scope"] == "sample") & (res.timing["metric"] == "cycles")]
    rows += [(case, "cycles", r.rule, float(r.value)) for r in cyc.itertuples()]
    for model in ("horowitz45", "cacti28"):
        pr = price(res.ledger, wl.hardware, load_cost_model(model))
        e = pr.rows.groupby("rule", sort=True)["energy"].sum()
        rows += [(case, f"energy:{model}", rule, float(v)) for rule, v in e.items()]
    return rows


def main(out: str) -> None:
    rows = []
    for w, h in CASES:
        rows += case_rows(w, h)
        print(w, h, len(rows), flush=True)
    pd.DataFrame(rows, columns=["case", "what", "key", "value"]).to_csv(out, index=False, float_format="%.17g")


if __name__ == "__main__":
    main(sys.argv[1])
