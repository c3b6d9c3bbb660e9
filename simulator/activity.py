"""Activity: how many events each layer sees at each step, per sample.

An :class:`ActivityProfile` gives, per layer (every block and the readout), float arrays over the
T steps:

- ``in_events``   non-zero input elements (input spikes; analog pixels for an analog first layer)
- ``syn_ops``     effective synaptic operations: Σ over those input elements of their border-exact
                  fan-out (≤ the layer's dense border-exact count S)
- ``out_spikes``  spikes of the layer's neurons, before pooling (0 for the non-spiking readout)
- ``post_events`` non-zero block outputs after pooling (what the next layer receives)

Sources: ``dense`` (every element active every step, the paper's convention) and ``rates``
(expected counts from firing rates, assuming spikes spread uniformly and independently over
space: a k×k pooling window is active with probability 1 − (1 − r)^(k²)). Measured and recorded
activity fill the same profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import UserError
from .network import Block, Net
from .workload import DenseActivity, RatesActivity


@dataclass(frozen=True)
class LayerActivity:
    """Per-step activity of one layer; every field is a float array of shape [T] (per sample)."""

    in_events: np.ndarray
    syn_ops: np.ndarray
    out_spikes: np.ndarray
    post_events: np.ndarray


@dataclass(frozen=True)
class ActivityProfile:
    """Activity of every layer (blocks and readout, by name) and where it came from."""

    source: str
    description: str
    layers: dict[str, LayerActivity]

    def __getitem__(self, name: str) -> LayerActivity:
        return self.layers[name]

    def rates(self, net: Net) -> dict[str, float]:
        """Mean firing rate of every spiking block over the steps (spikes / neurons / step)."""
        return {b.name: float(self.layers[b.name].out_spikes.mean() / b.N_pre) for b in net.blocks}


def _pooled_rate(block: Block, rate: float) -> float:
    """Probability that a block output is non-zero after its pools, for neuron rate ``rate``."""
    h, w = block.pre_shape[1:] if len(block.pre_shape) == 3 else (1, 1)
    for pool in block.pools:
        rate = 1.0 - (1.0 - rate) ** pool.window(h, w)
        h, w = pool.out_hw(h, w)
    return rate


def from_rates(net: Net, input_rate: float, block_rates: dict[str, float], description: str,
               source: str = "rates") -> ActivityProfile:
    """Expected counts from an input event rate and a firing rate per spiking block."""
    ones = np.ones(net.T)
    layers: dict[str, LayerActivity] = {}
    rate_in = input_rate
    for b in net.blocks:
        r = block_rates[b.name]
        post = _pooled_rate(b, r)
        layers[b.name] = LayerActivity(rate_in * b.N_in * ones, rate_in * b.S * ones,
                                       r * b.N_pre * ones, post * b.N_post * ones)
        rate_in = post
    ro = net.readout
    layers[ro.name] = LayerActivity(rate_in * ro.N_in * ones, rate_in * ro.S * ones,
                                    0.0 * ones, 0.0 * ones)
    return ActivityProfile(source, description, layers)


def dense(net: Net) -> ActivityProfile:
    """Every element active every step: the upper bound the paper's counts use."""
    return from_rates(net, 1.0, {b.name: 1.0 for b in net.blocks},
                      "dense: every input element and neuron active every step", source="dense")


def build_activity(net: Net, spec, where: str = "<workload>") -> ActivityProfile:
    """The profile a workload's ``activity`` section asks for."""
    if isinstance(spec, DenseActivity):
        return dense(net)
    if isinstance(spec, RatesActivity):
        names = {b.name for b in net.blocks}
        for name in spec.layers:
            if name not in names:
                import difflib

                hint = difflib.get_close_matches(name, sorted(names), n=1)
                raise UserError(where, f"activity.layers.{name}", "no spiking layer of that name"
                                + (f" (did you mean '{hint[0]}'?)" if hint else f" (layers: {', '.join(sorted(names))})"))
        rates = {b.name: spec.layers.get(b.name, spec.default) for b in net.blocks}
        desc = f"rates: input {spec.input:g}, " + ", ".join(f"{k} {v:g}" for k, v in rates.items())
        return from_rates(net, spec.input, rates, desc)
    raise UserError(where, "activity.source", f"unsupported activity source {spec!r}")
