"""The state every rule keeps, whatever its learning signal."""

from __future__ import annotations

from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.forward import input_prec
from tess_sim.simulator.rules.program import Hold
from tess_sim.simulator.rules.standardise import GAINS, STANDARDISED, STATISTICS
from tess_sim.simulator.rules.update import ACCUMULATOR


def common_state(net: Net, optimizer: str, policy: str = "per_batch", spike_steps: int = 1) -> list[Hold]:
    """Weights (a standardised layer also its W_eff and gains), membranes (readout accumulators
    too), gradient accumulators (none under ``update: per_step``), optimizer moments, and the spike buffers between layers: the input map
    and every block's output map of ``spike_steps`` steps (1 step-major; T layer-major, where a
    layer runs its T steps before the next one reads them)."""
    first = net.blocks[0]
    k = spike_steps
    many = " of every step" if k > 1 else ""
    out = [Hold("spikes", "input", input_prec(first), k * net.N_input, f"input map x[t]{many}")]
    out += [Hold("spikes", b.name, "spike", k * b.N_post, f"output spikes z[t]{many}") for b in net.blocks]
    for b in net.layers:
        out.append(Hold("weights", b.name, "weight", b.params, "weights W"))
        if b.standardised:  # docs/math.md §1a: W_eff kept beside the trained W, renormalised per update
            out.append(Hold("weights", b.name, "weight", b.weights, STANDARDISED))
            out.append(Hold("weights", b.name, "gradient", b.gains, GAINS))
            out.append(Hold("weights", b.name, "gradient", 2 * b.gains, STATISTICS))
        out.append(Hold("membrane", b.name, "membrane", b.N_pre, "membrane u"))
        if policy != "per_step":
            out.append(Hold("gradients", b.name, "gradient", b.params + b.gains, ACCUMULATOR))
        if optimizer == "adam":
            out.append(Hold("optimizer", b.name, "gradient", 2 * (b.params + b.gains), "Adam moments m, v"))
    return out
