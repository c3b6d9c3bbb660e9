"""The state every rule keeps, whatever its learning signal."""

from __future__ import annotations

from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.forward import input_prec
from tess_sim.simulator.rules.program import Hold
from tess_sim.simulator.rules.update import ACCUMULATOR


def common_state(net: Net, optimizer: str, policy: str = "per_batch", spike_steps: int = 1) -> list[Hold]:
    """Weights, membranes (readout accumulators too), gradient accumulators (none under
    ``update: per_step``), optimizer moments, and the spike buffers between layers: the input map
    and every block's output map of ``spike_steps`` steps (1 step-major; T layer-major, where a
    layer runs its T steps before the next one reads them)."""
    first = net.blocks[0]
    k = spike_steps
    many = " of every step" if k > 1 else ""
    out = [Hold("spikes", "input", input_prec(first), k * net.N_input, f"input map x[t]{many}")]
    out += [Hold("spikes", b.name, "spike", k * b.N_post, f"output spikes z[t]{many}") for b in net.blocks]
    for b in net.layers:
        out.append(Hold("weights", b.name, "weight", b.params, "weights W"))
        out.append(Hold("membrane", b.name, "membrane", b.N_pre, "membrane u"))
        if policy != "per_step":
            out.append(Hold("gradients", b.name, "gradient", b.params, ACCUMULATOR))
        if optimizer == "adam":
            out.append(Hold("optimizer", b.name, "gradient", 2 * b.params, "Adam moments m, v"))
    return out
