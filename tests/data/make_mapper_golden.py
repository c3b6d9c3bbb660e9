"""Write tests/data/mapper_golden.json.gz: the mapping the loop-nest mapper chooses for each of the
37 distinct (nest, arch) searches of ``tess-sim run workloads/dvs.yaml --hardware
workloads/hw/sata.yaml`` (benchmarks/data/dvs_sata_nests.pkl) and each objective, as the code at
commit 407aaf0 (before the mapper was made faster) chose them. Run it with THAT version
installed (a worktree at 407aaf0):

    python tests/data/make_mapper_golden.py tests/data/mapper_golden.json.gz

tests/test_mapper_golden.py searches the same pairs with the current code and compares.
"""

from __future__ import annotations

import gzip
import json
import pickle
import sys
from pathlib import Path

from tess_sim.simulator.dataflow.mapper import OBJECTIVES, Mapping, best

HERE = Path(__file__).resolve().parent
PAIRS = HERE.parent.parent / "benchmarks" / "data" / "dvs_sata_nests.pkl"


def load_pairs() -> list:
    with open(PAIRS, "rb") as f:
        return pickle.load(f)


def record(m: Mapping) -> dict:
    """Every field of a Mapping as JSON data (floats round-trip exactly); ``evaluated`` is kept
    for information only (a search that prunes more evaluates fewer candidates)."""
    c = m.candidate
    return {
        "spatial": [[list(df) for df in axis] for axis in c.spatial],
        "factors": [[d, list(f)] for d, f in c.factors],
        "order": [[lv, list(ds)] for lv, ds in c.order],
        "bypass": sorted(c.bypass),
        "accesses": [list(a) for a in m.accesses],
        "ops": m.ops,
        "compute_cycles": m.compute_cycles,
        "memory_cycles": m.memory_cycles,
        "cycles": m.cycles,
        "energy": m.energy,
        "utilisation": m.utilisation,
        "evaluated": m.evaluated,
    }


def main(out: str) -> None:
    rows = [{"pair": i, "objective": obj, **record(best(nest, arch, obj))}
            for obj in OBJECTIVES for i, (nest, arch) in enumerate(load_pairs())]
    with gzip.open(out, "wt") as f:
        json.dump(rows, f)


if __name__ == "__main__":
    main(sys.argv[1])
