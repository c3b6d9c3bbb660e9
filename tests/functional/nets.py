"""Small networks for the functional tests, resolved the one way: a workload's layer list through
:func:`tess_sim.simulator.network.build_network` (which computes and validates every shape)."""

from __future__ import annotations

from tess_sim.simulator.network import Net, build_network
from tess_sim.simulator.workload import workload_from_dict

POOL_TYPES = {"max": ("maxpool", "kernel"), "avg": ("avgpool", "kernel"),
              "adaptive_avg": ("adaptive_avgpool", "size")}


def net_of(input_shape, layers: list[dict], classes: int, neuron: dict | None = None,
           standardisation: str = "none") -> Net:
    """The Net of ``layers`` (workload layer mappings) over per-sample inputs ``input_shape``;
    ``neuron``: the workload's neuron section (defaults beta 0.5, theta 0.6, triangle Psi);
    ``standardisation``: the network's ``weight_standardisation``."""
    wl = workload_from_dict({"name": "t", "input": {"shape": list(input_shape), "T": 1, "classes": classes},
                             "neuron": neuron or {}, "rules": {"bptt": {}},
                             "network": {"layers": layers, "weight_standardisation": standardisation}})
    return build_network(wl)


def conv(name: str, out: int, k: int = 3, s: int = 1, p: int = 1, bias: bool = False) -> dict:
    return {"type": "conv", "name": name, "out_channels": out, "kernel": k, "stride": s, "padding": p,
            "bias": bias}


def linear(name: str, out: int, bias: bool = False) -> dict:
    return {"type": "linear", "name": name, "out_features": out, "bias": bias}


def pool(kind: str, size: int) -> dict:
    """A pool layer by the engine's kind name (max | avg | adaptive_avg)."""
    layer_type, key = POOL_TYPES[kind]
    return {"type": layer_type, key: size}


def readout(name: str = "out", bias: bool = True) -> dict:
    return {"type": "readout", "name": name, "bias": bias}
