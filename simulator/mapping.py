"""Mapping of layers to cores: an explicit list (one core per layer, blocks then the readout) or
``auto``, contiguous groups of layers that balance the dense work (F MACs per step) over cores."""

from __future__ import annotations

import numpy as np

from .errors import UserError
from .network import Net
from .workload import Hardware


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
    loads = [float(b.F + b.N_pre) for b in net.layers]
    return dict(zip(names, balanced_groups(loads, hw.cores)))
