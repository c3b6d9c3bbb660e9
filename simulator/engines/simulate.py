"""Run every rule of a workload on the SimPy engine: placement, simulation, ledger, timing.

The ledger it returns is the analytical engine's (same columns, counts as *executed* by the
simulation, which equal the analytical counts exactly) plus the ``memory`` column of
:func:`simulator.placement.with_memory`; the timing table sits beside it
(:data:`simulator.engines.simpy_engine.TIMING_COLUMNS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.ledger import make_ledger
from tess_sim.simulator.mapping import core_of_layers
from tess_sim.simulator.network import Net
from tess_sim.simulator.placement import place, touched, with_memory
from tess_sim.simulator.rules import Rule
from tess_sim.simulator.workload import Hardware, Workload
from tess_sim.simulator.engines.analytical import bits_of, full_rows, paper_rows, run_analytical
from tess_sim.simulator.engines.simpy_engine import CoreSim, SimRun, memory_table


@dataclass
class Simulated:
    """The SimPy engine's output: ``raw`` ledger (no memory split: the parity ledger), ``ledger``
    (with ``memory``), ``placement``, ``timing`` and each rule's :class:`SimRun`."""

    raw: pd.DataFrame
    ledger: pd.DataFrame
    placement: pd.DataFrame
    timing: pd.DataFrame
    runs: dict[str, SimRun]


def capacity_view(hw: Hardware) -> Hardware:
    """The hardware as placement sees it: every core has its own copy of each SRAM, so with
    several cores a buffer kind may use ``cores ×`` the capacity (buffers spread over cores)."""
    if hw.cores == 1:
        return hw
    mems = [m.model_copy(update={"capacity_bytes": m.capacity_bytes * hw.cores}) if m.kind == "sram" else m
            for m in hw.memories]
    return hw.model_copy(update={"memories": mems})


def simulate(wl: Workload, net: Net, rules: list[Rule], act: ActivityProfile,
             granularity: str | None = None, tile: int | None = None,
             keep_tasks: bool = False) -> Simulated:
    """Simulate one sample of every rule on the workload's hardware."""
    where = wl.source or "<workload>"
    hw, batch = wl.hardware, wl.input.batch
    granularity = granularity or wl.simulation.granularity
    tile = tile or wl.simulation.tile
    cores = core_of_layers(net, hw, where)
    placement = place(run_analytical(rules, act, hw.precision, batch), capacity_view(hw), where)
    rows, runs, touch = [], {}, {}
    for rule in rules:
        sim = CoreSim(rule, rule.works(act), net, hw, placement, cores, granularity, tile, batch,
                      keep_tasks, where).run()
        runs[rule.name] = sim
        rows += paper_rows(rule) + full_rows(rule, sim.works, hw.precision, batch)
        touch.update(touched(rule.name, sim.works, rule.state(), net.T, batch,
                             lambda prec: bits_of(prec, hw.precision)))
    raw = make_ledger(rows)
    paper = raw[raw["convention"] == "paper"].assign(memory="")
    ledger = pd.concat([paper, with_memory(raw, placement, hw, touch)], ignore_index=True)
    timing = pd.concat([r.timing for r in runs.values()] + [memory_table(ledger, placement, hw)],
                       ignore_index=True)
    return Simulated(raw, ledger, placement, timing, runs)
