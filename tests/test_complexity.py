"""Complexity slopes over T = 16…1024 (log-log) on the paper workloads."""

from __future__ import annotations

import pytest

from tess_sim.api import complexity, fit_slopes
from tess_sim.api import load

from .conftest import WORKLOADS


@pytest.fixture(scope="module", params=["dvs", "cifar10dvs"])
def slopes(request):
    cx = complexity(load(WORKLOADS / f"{request.param}.yaml"))
    assert sorted(cx["T"].unique()) == [2 ** k for k in range(11)]
    return fit_slopes(cx).set_index(["rule", "convention", "metric", "part"])["slope"].sort_index()


def test_paper_memory_slopes(slopes):
    assert slopes["bptt", "paper", "memory_MB", "total"] == pytest.approx(1.0, abs=0.02)
    assert slopes["stllr", "paper", "memory_MB", "total"] == pytest.approx(0.0, abs=0.02)
    assert slopes["tess", "paper", "memory_MB", "total"] == pytest.approx(0.0, abs=0.02)


def test_learning_mac_slopes(slopes):
    for rule in ("bptt", "stllr", "tess"):
        assert slopes[rule, "paper", "learning_ops", "total"] == pytest.approx(1.0, abs=0.02)
        assert slopes[rule, "full", "learning_ops", "total"] == pytest.approx(1.0, abs=0.02)


def test_full_buffer_slopes(slopes):
    assert slopes["bptt", "full", "memory_MB", "history"] == pytest.approx(1.0, abs=0.02)
    for rule in ("stllr", "tess"):
        parts = slopes.loc[rule, "full", "memory_MB"]
        assert len(parts) >= 6  # total, weights, membrane, traces, errors, gradients, …
        for part, k in parts.items():
            assert k == pytest.approx(0.0, abs=0.02), (rule, part)
    # BPTT's total bends: weights do not grow with T, history does
    assert 0.1 < slopes["bptt", "full", "memory_MB", "total"] < 1.0


def test_fixed_window_makes_learning_independent_of_T(small_dict):
    from tess_sim.api import from_dict

    small_dict["rules"]["tess"]["window"] = 1
    cx = complexity(from_dict(small_dict), [16, 64, 256, 1024])
    s = fit_slopes(cx).set_index(["rule", "convention", "metric", "part"])["slope"]
    assert s["tess", "paper", "learning_ops", "total"] == pytest.approx(0.0, abs=1e-9)
