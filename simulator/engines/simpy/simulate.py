"""Run every rule of a workload on the SimPy engine: placement, simulation, ledger, timing.

The ledger it returns is the analytical engine's (same columns, counts as *executed* by the
simulation, which equal the analytical counts exactly) plus the ``memory`` column of
:func:`simulator.placement.with_memory` under the same :func:`simulator.placement.place`; the
timing table sits beside it (:data:`simulator.engines.simpy.engine.TIMING_COLUMNS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.mapping import core_of_layers
from tess_sim.simulator.network import Net
from tess_sim.simulator.placement import place, with_memory
from tess_sim.simulator.rules import Rule
from tess_sim.simulator.workload import Workload
from tess_sim.simulator.engines.mapped import Mapper, map_all
from tess_sim.simulator.engines.rows import raw_ledger, touched_rows
from tess_sim.simulator.engines.simpy.engine import CoreSim, SimRun, memory_table

#: the basis of :attr:`Simulated.seconds`, as every output labels the leakage priced over it
SIMULATED = "simulated"


@dataclass
class Simulated:
    """The SimPy engine's output: ``raw`` ledger (before placement: the parity ledger), ``ledger``
    (placed), ``placement``, ``timing``, each rule's :class:`SimRun` and, on a mapped core, the
    mapping table."""

    raw: pd.DataFrame
    ledger: pd.DataFrame
    placement: pd.DataFrame
    timing: pd.DataFrame
    runs: dict[str, SimRun]
    mappings: pd.DataFrame | None = None


def simulate(wl: Workload, net: Net, rules: list[Rule], act: ActivityProfile,
             granularity: str | None = None, tile: int | None = None,
             keep_tasks: bool = False, mapper: Mapper | None = None) -> Simulated:
    """Simulate one sample of every rule on the workload's hardware. The buffers are placed
    before the simulation (task durations depend on what spills) from the held state of the
    rules' programs, which the simulation does not change."""
    where = wl.source or "<workload>"
    hw, batch = wl.hardware, wl.input.batch
    granularity = granularity or wl.simulation.granularity
    tile = tile or wl.simulation.tile
    cores = core_of_layers(net, hw, where)
    planned = {rule.name: rule.works(act) for rule in rules}
    placement = place(raw_ledger(rules, planned, hw.precision, batch), hw, where)
    planned, mappings = map_all(rules, planned, hw, placement, mapper)
    runs = {rule.name: CoreSim(rule, planned[rule.name], net, hw, placement, cores, granularity, tile, batch,
                               keep_tasks, where).run()
            for rule in rules}
    executed = {name: run.works for name, run in runs.items()}
    raw = raw_ledger(rules, executed, hw.precision, batch)
    ledger = with_memory(raw, placement, hw, touched_rows(rules, executed, hw.precision, batch))
    timing = pd.concat([r.timing for r in runs.values()] + [memory_table(ledger, placement, hw)],
                       ignore_index=True)
    return Simulated(raw, ledger, placement, timing, runs, mappings)
