"""``event_driven`` is today's convention, kept exactly: every shipped workload on its own
hardware, and dvs / small on odin, reckon and the old (event_driven) sata, give the ledger (every
row key, its memory included), the simulated cycles and the energy of two cost models that the
code printed before the mapped dataflow existed (tests/data/event_driven_golden.csv.gz, written by
tests/data/make_event_driven_golden.py at commit 6b15d9a — another version of the code, not the
code under test)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.data.make_event_driven_golden import CASES, case_rows, HERE

GOLDEN = pd.read_csv(HERE / "event_driven_golden.csv.gz")


@pytest.mark.parametrize("workload,hardware", CASES, ids=[f"{w}@{h or 'own'}" for w, h in CASES])
def test_event_driven_reproduces_the_code_before_mapped(workload, hardware):
    got = pd.DataFrame(case_rows(workload, hardware), columns=["case", "what", "key", "value"])
    want = GOLDEN[GOLDEN["case"] == got["case"].iloc[0]]
    assert len(want), "no golden rows for this case"
    g = got.set_index(["what", "key"])["value"]
    w = want.set_index(["what", "key"])["value"]
    missing, extra = sorted(set(w.index) - set(g.index)), sorted(set(g.index) - set(w.index))
    assert not missing and not extra, (missing[:5], extra[:5])
    g = g.loc[w.index]
    np.testing.assert_allclose(g.to_numpy(), w.to_numpy(), rtol=1e-12, atol=0)
