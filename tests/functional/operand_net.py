"""The tiny network of the operand tests: conv (bias) + max pool + strided conv + linear (bias) +
readout, T = 4, batch 2, an input with zeros (a whole step of none), and a variant whose second
conv never fires (its Psi is zero everywhere: every signal below and at it is zero)."""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.functional.network import init_scheme
from tess_sim.simulator.network import build_network
from tess_sim.simulator.workload import workload_from_dict


def tiny_dict(hardware: dict | None = None) -> dict:
    d = {"name": "tiny", "input": {"shape": [2, 6, 6], "T": 4, "classes": 3, "batch": 2, "encoding": "spikes"},
         "network": {"layers": [{"type": "conv", "out_channels": 3, "name": "c1", "bias": True},
                                {"type": "maxpool", "kernel": 2},
                                {"type": "conv", "out_channels": 4, "name": "c2", "stride": 2},
                                {"type": "linear", "out_features": 5, "name": "fc", "bias": True},
                                {"type": "readout", "name": "out"}]},
         "rules": {"bptt": {}, "stllr": {"window": 3}, "tess": {"lsg_pool": [1, 1, 1]}},
         "activity": {"source": "dense"}}
    if hardware is not None:
        d["hardware"] = hardware
    return d


def tiny(silent: bool = False):
    """(workload, net, weights, x [4, 2, 2, 6, 6], labels [2]); ``silent``: c2's weights so
    negative that its membrane never comes near the threshold (no spike, Psi = 0)."""
    wl = workload_from_dict(tiny_dict())
    net = build_network(wl)
    w = {k: v * 3.0 for k, v in init_scheme(net, 0, wl.training.init).items()}
    if silent:
        w["c2"] = -np.abs(w["c2"]) * 10.0
    rng = np.random.default_rng(1)
    x = (rng.random((4, 2, 2, 6, 6)) < 0.4).astype(np.float32)
    x[1] = 0.0  # a step without input
    return wl, net, w, x, np.array([0, 2])
