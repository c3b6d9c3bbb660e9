"""NeuroBench's workload and static metrics of a run's forward pass, under NeuroBench's names and
definitions (neurobench 2.3.0, ``neurobench.metrics``; docs/neurobench.md), per sample.

From an :class:`~simulator.activity.ActivityProfile` (each layer's counts per step, per sample):

=======================  ==========================================================================
``Effective_ACs``        Σ over connection layers (conv, linear, readout) whose input is binary, and
                         steps, of the synaptic operations with a non-zero input (border-exact:
                         our ``syn_ops``)
``Effective_MACs``       the same over layers whose input is not binary: an analog first layer, and
                         a layer after an average pool (its inputs are fractions of spikes)
``Dense``                Σ over connection layers and steps of every synaptic operation: our S × T
``ActivationSparsity``   1 − spikes / (neurons × steps), over the spiking layers
``MembraneUpdates``      Σ over spiking layers and steps of the membrane updates (every neuron at the
                         first step, then the neurons whose post-reset membrane changed); None when
                         the profile does not know them (rates; a file without the column)
``ParameterCount``       weights, biases and standardisation gains
``Footprint``            bytes of those parameters as float32 tensors (4 bytes each); NeuroBench
                         also counts a PyTorch model's buffers (snnTorch: 20 bytes per neuron
                         layer, more after a run; docs/neurobench.md)
=======================  ==========================================================================

NeuroBench counts ops against non-zero *weights* too; our profiles carry no weight sparsity, so
every weight counts as non-zero (exact for a trained float network, where exact zeros do not
occur). NeuroBench decides AC against MAC per input tensor by its values (all in {0, ±1}: ACs);
here it is decided by the layer's structure, which gives the same split except for an averaged
tensor that happens to hold only 0 and 1 (the sum ``Effective_ACs + Effective_MACs`` is the same).
"""

from __future__ import annotations

from dataclasses import dataclass

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.network import Block, Net

#: bytes per parameter of NeuroBench's Footprint (a float32 PyTorch model)
FOOTPRINT_BYTES = 4


@dataclass(frozen=True)
class Metric:
    """One NeuroBench metric: its NeuroBench name, value (None: not known for this profile),
    unit, and what it counts."""

    name: str
    value: float | None
    unit: str
    definition: str


def binary_input(net: Net, layer: Block) -> bool:
    """Whether ``layer`` receives only 0/1 values: spikes of the input (``encoding: spikes``) or of
    a block whose pools are all max-pools (an average pool passes fractions of spikes)."""
    i = list(net.layers).index(layer)
    if i == 0:
        return not net.analog_input
    return all(p.kind == "max" for p in net.layers[i - 1].pools)


def neurobench_metrics(net: Net, profile: ActivityProfile) -> list[Metric]:
    """The metrics of the module docstring for the forward pass of ``net`` under ``profile``."""
    acs = macs = dense = 0.0
    for b in net.layers:
        ops = float(profile[b.name].syn_ops.sum())
        if binary_input(net, b):
            acs += ops
        else:
            macs += ops
        dense += float(b.S) * net.T
    spikes = sum(float(profile[b.name].out_spikes.sum()) for b in net.blocks)
    neuron_steps = sum(b.N_pre for b in net.blocks) * net.T
    mem = [profile[b.name].membrane_updates for b in net.blocks]
    updates = None if any(m is None for m in mem) else float(sum(m.sum() for m in mem))
    params = sum(b.params + b.gains for b in net.layers)
    return [
        Metric("Effective_ACs", acs, "ops", "synaptic ops with a non-zero binary input (layers fed spikes)"),
        Metric("Effective_MACs", macs, "ops", "synaptic ops with a non-zero non-binary input (analog input, "
               "after an average pool)"),
        Metric("Dense", dense, "ops", "every synaptic op of every connection layer and step (border-exact)"),
        Metric("ActivationSparsity", 1.0 - spikes / neuron_steps, "fraction",
               "zero activations / all activations of the spiking layers over the steps"),
        Metric("MembraneUpdates", updates, "updates", "every neuron at the first step, then each change of a "
               "post-reset membrane" + ("" if updates is not None else " (not known for this activity)")),
        Metric("ParameterCount", float(params), "parameters", "weights, biases and standardisation gains"),
        Metric("Footprint", float(params * FOOTPRINT_BYTES), "bytes", "the parameters as float32 tensors"),
    ]


def neurobench_table(net: Net, profile: ActivityProfile, rules: list[str]):
    """``neurobench.csv``: one row per rule and metric (rule, metric, value, unit, definition);
    every rule of a run has the same forward pass (the same weights and activity)."""
    import pandas as pd

    rows = [(r, m.name, m.value, m.unit, m.definition) for r in rules for m in neurobench_metrics(net, profile)]
    return pd.DataFrame(rows, columns=["rule", "metric", "value", "unit", "definition"])
