"""Rule programs (README, The ledger): each rule's own formulas in its module (``bptt``, ``stllr``,
``tess``), what they share in ``forward`` (synaptic ops, LIF, Psi, pools), ``pools``, ``traces``
(S-TLLR and TESS), ``readout`` (its softmax and weight gradient), ``update`` (the optimizer) and
``state``; the vocabulary (Work, Count, Hold, WorkBuilder, terms) in ``program``, the interface in
``rule``."""

from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.bptt import BPTT
from tess_sim.simulator.rules.rule import Rule
from tess_sim.simulator.rules.stllr import STLLR
from tess_sim.simulator.rules.tess import TESS
from tess_sim.simulator.workload import Workload

RULES: dict[str, type[Rule]] = {rule.name: rule for rule in (BPTT, STLLR, TESS)}


def build_rules(wl: Workload, net: Net, where: str = "<workload>") -> list[Rule]:
    """The workload's enabled rule programs, each having checked its parameters against ``net``."""
    out = []
    for name, params in wl.rules.enabled().items():
        RULES[name].check(net, params, where)
        out.append(RULES[name](net, params))
    return out


__all__ = ["RULES", "Rule", "BPTT", "STLLR", "TESS", "build_rules"]
