"""The mapper chooses, for each of the 37 distinct (nest, arch) searches of ``tess-sim run
workloads/dvs.yaml --hardware workloads/hw/sata.yaml`` and each objective, exactly the mapping the
mapper of commit 407aaf0 chose (tests/data/mapper_golden.json.gz, written by
tests/data/make_mapper_golden.py with that version of the code: another implementation of the
same search). Same spatial unrolling, factors, loop orders and bypass, and the same counts,
cycles and energy to the last bit: a faster search must find the same optimum of the same
mapspace, ties resolved alike. ``evaluated`` may differ only downwards (more pruning)."""

from __future__ import annotations

import gzip
import json

import pytest

from tess_sim.simulator.dataflow.mapper import OBJECTIVES, best
from tests.data.make_mapper_golden import HERE, load_pairs, record

with gzip.open(HERE / "mapper_golden.json.gz", "rt") as _f:
    GOLDEN = json.load(_f)
PAIRS = load_pairs()


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_same_mappings_as_before(objective):
    want = {r["pair"]: r for r in GOLDEN if r["objective"] == objective}
    assert sorted(want) == list(range(len(PAIRS))) and len(PAIRS) == 37
    best.cache_clear()
    for i, (nest, arch) in enumerate(PAIRS):
        got = json.loads(json.dumps(record(best(nest, arch, objective))))   # as stored
        w = dict(want[i])
        assert got.pop("evaluated") <= w.pop("evaluated"), i
        differ = [k for k in w if k not in ("pair", "objective") and got[k] != w[k]]
        assert not differ, (i, objective, differ)
