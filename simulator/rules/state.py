"""The state every rule keeps, whatever its learning signal."""

from __future__ import annotations

from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.forward import input_prec
from tess_sim.simulator.rules.program import Hold


def common_state(net: Net, optimizer: str) -> list[Hold]:
    """Weights, membranes (readout accumulators too), gradient accumulators, optimizer moments,
    and the spike buffers between layers (the input map and every block's output map of the
    current step, one element each)."""
    first = net.blocks[0]
    out = [Hold("spikes", "input", input_prec(first), net.N_input, "input map x[t]")]
    out += [Hold("spikes", b.name, "spike", b.N_post, "output spikes z[t]") for b in net.blocks]
    for b in net.layers:
        out.append(Hold("weights", b.name, "weight", b.params, "weights W"))
        out.append(Hold("membrane", b.name, "membrane", b.N_pre, "membrane u"))
        out.append(Hold("gradients", b.name, "gradient", b.params, "gradient accumulator g"))
        if optimizer == "adam":
            out.append(Hold("optimizer", b.name, "gradient", 2 * b.params, "Adam moments m, v"))
    return out
