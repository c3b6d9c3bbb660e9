"""Rule programs (README, The ledger): each rule's own formulas in its module (``bptt``, ``stllr``,
``tess``), what they share in ``forward`` (synaptic ops, LIF, Psi, pools), ``pools``, ``traces``
(S-TLLR and TESS), ``readout`` (its softmax and weight gradient), ``update`` (the optimizer) and
``state``; the vocabulary (Work, Count, Hold, WorkBuilder, terms) in ``program``, the interface in
``rule``."""

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.bptt import BPTT
from tess_sim.simulator.rules.rule import Rule
from tess_sim.simulator.rules.stllr import STLLR
from tess_sim.simulator.rules.tess import TESS
from tess_sim.simulator.workload import Workload

RULES: dict[str, type[Rule]] = {rule.name: rule for rule in (BPTT, STLLR, TESS)}


#: why each (rule, schedule) is legal, or what runs instead (docs/dataflow.md)
SCHEDULE_NOTES = {
    ("bptt", "step_major"): "step_major: every layer per step; backward through time in reverse",
    ("bptt", "layer_major"): "layer_major forward pass (a layer's T steps need only its inputs, which the "
                             "history keeps); backward through time step-major, steps in reverse",
    ("stllr", "step_major"): "step_major: every layer per step",
    ("tess", "step_major"): "step_major: every layer per step",
    ("tess", "layer_major"): "layer_major: a layer's T steps, then the next (legal: TESS's learning signal "
                             "is local to the layer and its traces run forward in time)",
}
STLLR_STEP_MAJOR = ("step_major (the workload's layer_major is not legal for S-TLLR: its learning signal at "
                    "step t comes from the layers above at the same step t)")


def schedule_of(name: str, params, workload_schedule: str) -> tuple[str, str]:
    """(schedule, why) of a rule: its own ``schedule`` (the schema refuses an illegal one), else
    the workload's where legal — S-TLLR stays step-major under a workload-wide layer_major."""
    own = getattr(params, "schedule", None)
    if own is not None:
        return own, SCHEDULE_NOTES[(name, own)]
    if name == "stllr" and workload_schedule == "layer_major":
        return "step_major", STLLR_STEP_MAJOR
    return workload_schedule, SCHEDULE_NOTES[(name, workload_schedule)]


def build_rules(wl: Workload, net: Net, where: str = "<workload>") -> list[Rule]:
    """The workload's enabled rule programs, each having checked its parameters against ``net``
    and taken its schedule (:func:`schedule_of`) and the hardware's zero handling (``pe.zero``)."""
    out = []
    for name, params in wl.rules.enabled().items():
        if getattr(params, "update", None) == "per_step" and any(b.standardised for b in net.blocks):
            raise UserError(where, f"rules.{name}.update", "per_step is not legal with weight standardisation: "
                            "the standardisation's backward needs the layer's whole gradient (its per-channel "
                            "sums) before any weight changes (use per_sample or per_batch)")
        RULES[name].check(net, params, where)
        out.append(RULES[name](net, params, *schedule_of(name, params, wl.schedule), zero=wl.hardware.pe.zero))
    return out


__all__ = ["RULES", "Rule", "BPTT", "STLLR", "TESS", "build_rules", "schedule_of"]
