"""Mapping of layers to cores: an explicit list (one core per layer, blocks then the readout),
``auto`` (contiguous groups of layers) or ``balanced`` (any layer on any core).

Both automatic mappings balance the same load per layer: its dense work per step, F synaptic
MACs + N_pre neuron updates, divided by the array utilisation u of the layer under the PE
dataflow (:func:`array_utilisation`, which the SimPy engine also divides compute cycles by; u = 1
for ``parallelism: ideal``),
i.e. proportional to its compute cycles. ``auto`` splits the layer sequence into at most
``cores`` contiguous groups minimising the largest group load (exact); ``balanced`` assigns layers
greedily by LPT (largest load first, each onto the currently least-loaded core), whose busiest
core carries at most (4/3 − 1/(3·cores)) × the optimum (Graham 1969)."""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.network import Block, Net
from tess_sim.simulator.workload import Hardware


def lanes(block: Block) -> int:
    """Output channels (conv: ``pre_shape[0]``) or output features (linear, readout) of a layer:
    the PEs an output-stationary array can keep busy on it."""
    return int(block.pre_shape[0])


def array_utilisation(hw: Hardware, block: Block) -> float:
    """Fraction u of the PE array a layer keeps busy (dimensionless, 0 < u <= 1): 1 for
    ``parallelism: ideal``; min(1, lanes / units) for ``output_channels``. The layer's compute
    cycles are the ideal ones divided by u."""
    if hw.pe.parallelism == "ideal":
        return 1.0
    return min(1.0, lanes(block) / hw.pe.units)


def balanced_groups(loads: list[float], cores: int) -> list[int]:
    """Core of each layer: contiguous groups, at most ``cores``, minimising the largest group load
    (dynamic programme over split points; a handful of layers, so O(n²·cores) is instant)."""
    n = len(loads)
    k = min(cores, n)
    pre = np.concatenate([[0.0], np.cumsum(loads)])
    best = np.full((k + 1, n + 1), np.inf)
    cut = np.zeros((k + 1, n + 1), dtype=int)
    best[0, 0] = 0.0
    for g in range(1, k + 1):
        for j in range(1, n + 1):
            for i in range(g - 1, j):
                v = max(best[g - 1, i], pre[j] - pre[i])
                if v < best[g, j]:
                    best[g, j], cut[g, j] = v, i
    out, j = [0] * n, n
    for g in range(k, 0, -1):
        i = cut[g, j]
        for x in range(i, j):
            out[x] = g - 1
        j = i
    return out


def lpt(loads: list[float], cores: int) -> list[int]:
    """Core of each layer by greedy LPT: layers by decreasing load (ties: lower index first), each
    onto the least-loaded core (ties: lower core). Cores are then renumbered in the order of their
    first layer, so that core 0 holds layer 0 and spikes mostly travel forward on the line.
    Busiest core <= (4/3 − 1/(3·cores)) × the optimum makespan."""
    n = len(loads)
    k = min(cores, n)
    load = np.zeros(k)
    raw = [0] * n
    for i in sorted(range(n), key=lambda i: (-loads[i], i)):
        c = int(np.argmin(load))
        raw[i] = c
        load[c] += loads[i]
    rename: dict[int, int] = {}
    for c in raw:
        rename.setdefault(c, len(rename))
    return [rename[c] for c in raw]


def layer_loads(net: Net, hw: Hardware) -> list[float]:
    """Load of each layer with weights (blocks, then the readout): (F + N_pre) / u, in ops per step
    scaled by the array's idle share (proportional to the layer's compute cycles)."""
    return [float(b.F + b.N_pre) / array_utilisation(hw, b) for b in net.layers]


def core_of_layers(net: Net, hw: Hardware, where: str = "hardware") -> dict[str, int]:
    """Layer name -> core index for every layer with weights (blocks, then the readout)."""
    names = [b.name for b in net.layers]
    if isinstance(hw.mapping, list):
        if len(hw.mapping) != len(names):
            raise UserError(where, "hardware.mapping", f"has {len(hw.mapping)} entries but the network has "
                            f"{len(names)} layers with weights ({', '.join(names)})")
        return dict(zip(names, hw.mapping))
    if hw.cores == 1:
        return {n: 0 for n in names}
    loads = layer_loads(net, hw)
    assign = lpt if hw.mapping == "balanced" else balanced_groups
    return dict(zip(names, assign(loads, hw.cores)))
