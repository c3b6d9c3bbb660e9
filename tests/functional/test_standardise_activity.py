"""Standardisation keeps a freshly initialised VGG-9 firing on the synthetic DVS Gesture frames
(workloads/dvs.yaml, 2 samples, paper initialisation): measured, not assumed — without it only
conv1 and conv2 spike; with it (γ = 1) six blocks do; with γ = 2.74 (the OTTT constant,
docs/math.md §1a) every block does."""

from __future__ import annotations

import numpy as np
import pytest

from tess_sim.api import load
from tess_sim.simulator.functional.network import forward, init_scheme
from tess_sim.simulator.measured.bridge import load_samples
from tess_sim.simulator.network import build_network

from ..conftest import WORKLOADS


@pytest.fixture(scope="module")
def frames():
    wl = load(WORKLOADS / "dvs.yaml")
    x, _, _ = load_samples(wl, 2, 0, None)
    return x


def _rates(frames, sets):
    wl = load(WORKLOADS / "dvs.yaml", None, sets)
    net = build_network(wl)
    records, _ = forward(net, init_scheme(net, 0, "paper"), frames)
    return np.array([r.o.mean() for r in records])


@pytest.mark.parametrize("sets,alive", [
    ({}, 2),
    ({"network.weight_standardisation": "scaled"}, 6),
    ({"network.weight_standardisation": "scaled", "network.weight_standardisation_gamma": 2.74}, 8)])
def test_blocks_that_fire_at_initialisation(frames, sets, alive):
    rates = _rates(frames, sets)
    assert len(rates) == 8
    assert (rates[:alive] > 0).all() and (rates[alive:] == 0).all(), rates
