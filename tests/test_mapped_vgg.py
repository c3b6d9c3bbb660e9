"""The mapped dataflow on the paper's VGG-9 (issue 12 acceptance): the dense forward of every conv
layer on the new ``sata`` (16 × 8 output-stationary PEs, 1R + 1W buffers) runs within 5 % of the
ideal compute cycles (dense points / 128 PEs) wherever it is compute-bound, and moves every
spilled operand across the DRAM exactly once per step — the lower bound — wherever the buffers
allow it; both derived here from the layer shapes, not from the mapper."""

from __future__ import annotations

import math

import pytest

from tess_sim.api import load, mapper_of
from tess_sim.simulator.activity import build_activity
from tess_sim.simulator.engines.mapped import nest_of
from tess_sim.simulator.engines.rows import raw_ledger
from tess_sim.simulator.network import build_network
from tess_sim.simulator.placement import place
from tess_sim.simulator.rules import build_rules

from .conftest import WORKLOADS


@pytest.fixture(scope="module")
def forward_mappings():
    wl = load(WORKLOADS / "dvs.yaml", WORKLOADS / "hw" / "sata.yaml", {"rules": {"bptt": {}}})
    net = build_network(wl)
    (rule,) = build_rules(wl, net)
    act = build_activity(net, wl.activity)  # dense: every neuron spikes every step
    works = rule.works(act)
    placement = place(raw_ledger([rule], {rule.name: works}, wl.hardware.precision, 1), wl.hardware)
    mapper = mapper_of(wl)
    arch = mapper.arch(placement)
    pl = placement.set_index("unit")
    out = []
    for w in works:
        if w.phase == "fwd" and net.block(w.layer).kind == "conv":
            (con,) = w.nests
            nest = nest_of(con, wl.hardware, pl)
            out.append((net.block(w.layer), nest, mapper.best(nest, arch)))
    return wl, out


def test_dense_forward_is_within_5_percent_of_ideal_compute_where_compute_bound(forward_mappings):
    wl, maps = forward_mappings
    units = math.prod(wl.hardware.pe.array)
    bound = 0
    for b, nest, m in maps:
        ideal = b.F / units  # dense MACs (padding included) / PEs
        if m.cycles == m.compute_cycles:
            bound += 1
            assert m.compute_cycles <= 1.05 * ideal, (b.name, m.compute_cycles, ideal)
        assert m.compute_cycles >= ideal * (1 - 1e-12)  # no mapping beats the array
    assert bound >= len(maps) - 1  # conv1 (2 input channels) is bound by its membranes' DRAM traffic


def test_every_spilled_operand_crosses_the_dram_once_per_step(forward_mappings):
    wl, maps = forward_mappings
    dram = next(m.name for m in wl.hardware.memories if m.kind == "dram")
    for b, nest, m in maps:
        C, H, W = b.in_shape
        K = b.pre_shape[0]
        k, s = b.kernel, b.stride
        size = {  # the tensors, padded input as the nest sees it: (OX - 1)·s + FX per row
            "weights": K * C * k * k,
            "spikes": C * ((b.pre_shape[1] - 1) * s + k) * ((b.pre_shape[2] - 1) * s + k),
            "membrane": b.N_pre,
        }
        for op in nest.operands:
            unit = op.name.split(":")[1]
            reads = m.count(op.name, dram, "read")
            writes = m.count(op.name, dram, "write")
            if not op.spilled:
                assert reads == writes == 0, (b.name, unit)
                continue
            assert reads == size[unit], (b.name, unit, reads, size[unit])
            assert writes == (size[unit] if op.role != "read" else 0), (b.name, unit, writes)
