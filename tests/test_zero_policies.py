"""Zeros on a mapped array (``pe.zero``, issue 12): what each policy counts and times, derived
from the layer's shape and from the event_driven engine's effective counts — including a layer
whose input never spikes."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from tess_sim.api import activity_of, from_dict, mapper_of, run
from tess_sim.simulator.engines.mapped import map_all
from tess_sim.simulator.engines.rows import raw_ledger
from tess_sim.simulator.network import build_network
from tess_sim.simulator.placement import place
from tess_sim.simulator.rules import build_rules
from tess_sim.simulator.yaml_io import read_yaml

from .conftest import WORKLOADS


def _dict(small_dict, zero=None, silent=False):
    d = copy.deepcopy(small_dict)
    if zero:
        d["hardware"] = read_yaml(WORKLOADS / "hw" / "sata.yaml")
        d["hardware"]["pe"]["zero"] = zero
    if silent:  # c1 never spikes: c2's input is all zeros
        d["activity"]["layers"] = {**d["activity"].get("layers", {}), "c1": 0.0}
    return d


def _fwd_ac(res, layer):
    led = res.ledger
    rows = led[(led["convention"] == "full") & (led["rule"] == "tess") & (led["layer"] == layer)
               & (led["phase"] == "fwd") & (led["unit"] == "pe") & (led["action"] == "ac")]
    return float(rows["count"].sum())


def _fwd_cycles(d, layer):
    """[T] compute cycles of TESS's forward Work of ``layer`` as the mapper timed it."""
    wl = from_dict(d)
    net = build_network(wl)
    rules = [r for r in build_rules(wl, net) if r.name == "tess"]
    act = activity_of(wl, net)
    works = {r.name: r.works(act) for r in rules}
    placement = place(raw_ledger(rules, works, wl.hardware.precision, wl.input.batch), wl.hardware)
    mapped, _ = map_all(rules, works, wl.hardware, placement, mapper_of(wl))
    (w,) = [w for w in mapped["tess"] if w.layer == layer and w.phase == "fwd"]
    return w.cycles, act[layer].syn_ops, net.block(layer).F


@pytest.mark.parametrize("silent", [False, True])
def test_ops_dense_under_none_effective_under_gate_and_skip(small_dict, silent):
    net = build_network(from_dict(small_dict))
    T, F = net.T, net.block("c2").F
    effective = _fwd_ac(run(from_dict(_dict(small_dict, silent=silent)), "analytical"), "c2")  # event_driven
    assert (effective == 0) == silent and effective < T * F
    assert _fwd_ac(run(from_dict(_dict(small_dict, "none", silent)), "analytical"), "c2") == T * F
    for zero in ("gate", "skip"):
        got = _fwd_ac(run(from_dict(_dict(small_dict, zero, silent)), "analytical"), "c2")
        assert got == pytest.approx(effective, rel=1e-12, abs=0)


@pytest.mark.parametrize("silent", [False, True])
def test_skip_saves_the_cycles_of_the_zeros_gate_does_not(small_dict, silent):
    gate, syn, F = _fwd_cycles(_dict(small_dict, "gate", silent), "c2")
    skip, _, _ = _fwd_cycles(_dict(small_dict, "skip", silent), "c2")
    none, _, _ = _fwd_cycles(_dict(small_dict, "none", silent), "c2")
    np.testing.assert_allclose(gate, none, rtol=1e-12)       # gating saves energy, not cycles
    assert (gate > 0).all()                                   # the array still steps over the zeros
    np.testing.assert_allclose(skip, gate * np.asarray(syn) / F, rtol=1e-12, atol=0)  # × the step's density
    assert (skip == 0).all() == silent
