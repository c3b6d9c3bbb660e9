"""The streaming SimPy engine: a lone controller runs each (Work, step) as one SimPy event with the
very figures of the piece-by-piece simulation, and Plans built a chunk of steps at a time give the
figures of one whole-T chunk."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tess_sim.simulator.engines.simpy import plan as plan_mod
from tess_sim.simulator.network import build_network
from tess_sim.api import from_dict

from .simpy_helpers import core_sims, random_activity
from .test_simpy_timing import _random_hw


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(units=st.sampled_from([1, 4, 64]), ports=st.integers(1, 3), lat=st.integers(0, 4),
       bw=st.sampled_from([0.5, 8.0]), cap=st.sampled_from([512, 4096, 1 << 20]),
       cores=st.sampled_from([1, 2]), gran=st.sampled_from(["event", "tile", "phase"]),
       seed=st.integers(0, 99), silent=st.sets(st.sampled_from(["input", "c1", "c2"])))
def test_one_event_per_step_equals_piece_by_piece(small_dict, units, ports, lat, bw, cap, cores, gran,
                                                  seed, silent):
    """Every layer on one core (with cores = 2 the DRAM is still taken piece by piece): batched
    and piece-by-piece runs agree to the bit on every timing figure and every task record."""
    d = copy.deepcopy(small_dict)
    d["hardware"] = _random_hw(units, ports, lat, bw, cap, cores)
    d["hardware"]["mapping"] = [cores - 1] * 4
    d["input"]["T"] = 5
    d["simulation"] = {"tile": 16}
    wl = from_dict(d)
    act = random_activity(build_network(wl), seed, silent=silent)
    for a, b in zip(core_sims(wl, act, gran, keep_tasks=True), core_sims(wl, act, gran, keep_tasks=True)):
        fast, slow = a.run(), b.run(batch_steps=False)
        assert fast.cycles == slow.cycles
        keep = lambda t: t[t.metric != "simpy_events"].reset_index(drop=True)  # noqa: E731
        pd.testing.assert_frame_equal(keep(fast.timing), keep(slow.timing), check_exact=True)
        pd.testing.assert_frame_equal(fast.tasks, slow.tasks, check_exact=True)
        busy = sum(int((p.n > 0).sum()) for p in a.plans)
        assert fast.events <= busy + 2 <= slow.events + 2  # one event per busy (Work, step)
        for wa, wb in zip(fast.works, slow.works):
            for ca, cb in zip(wa.counts, wb.counts):
                assert np.array_equal(ca.per_step, cb.per_step)


@pytest.mark.parametrize("cores,mapping", [(1, "auto"), (2, [0, 0, 1, 1]), (2, [0, 1, 0, 1])])
@pytest.mark.parametrize("gran", ["event", "tile"])
def test_small_chunks_give_the_whole_sample_figures(small_dict, monkeypatch, cores, mapping, gran):
    """Chunks of a few pieces (many per Work) against one chunk per Work: the same cycles, counts
    and task records; sums of per-piece cycles agree to rounding; no chunk over the limit."""
    d = copy.deepcopy(small_dict)
    d["input"]["T"] = 12
    d["hardware"].update(cores=cores, mapping=mapping)
    d["simulation"] = {"tile": 8}
    wl = from_dict(d)
    act = random_activity(build_network(wl), 5)
    whole = [s.run() for s in core_sims(wl, act, gran, keep_tasks=True)]
    sizes = []
    build = plan_mod.Plan._build

    def spy(self, t0, t1):
        ch = build(self, t0, t1)
        sizes.append((len(ch.dur), int(self.n[t0:t1].max()) if t1 > t0 else 0))
        return ch

    monkeypatch.setattr(plan_mod, "WHOLE_PIECES", 6)
    monkeypatch.setattr(plan_mod, "CHUNK_PIECES", 6)
    monkeypatch.setattr(plan_mod.Plan, "_build", spy)
    sims = core_sims(wl, act, gran, keep_tasks=True)
    small = [s.run() for s in sims]
    assert all(not s.inbox and not s.done for s in sims)  # no spike inbox or error event kept per step
    assert all(n <= max(6, per_step) for n, per_step in sizes)
    assert len(sizes) > 3 * len(small[0].works)  # several chunks per Work
    for a, b in zip(whole, small):
        assert a.cycles == b.cycles
        pd.testing.assert_frame_equal(a.tasks, b.tasks, check_exact=True)
        ta, tb = a.timing.set_index(["scope", "name", "metric"]), b.timing.set_index(["scope", "name", "metric"])
        assert np.allclose(tb["value"].reindex(ta.index), ta["value"], rtol=1e-12, atol=1e-9)
        for wa, wb in zip(a.works, b.works):
            for ca, cb in zip(wa.counts, wb.counts):
                assert np.array_equal(ca.per_step, cb.per_step)
