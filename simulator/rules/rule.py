"""The interface every rule program implements (one subclass per rule module)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.program import Hold, Work, learning_mask


class Rule(ABC):
    """A learning rule's program on one network: its Works, its state, and the paper's counts.

    ``params`` is the rule's validated workload section (e.g. ``TESSParams``); ``schedule`` the
    time-step schedule it runs (:func:`simulator.rules.schedule_of`: legal for the rule) and
    ``schedule_note`` why; ``zero`` the hardware's zero handling (``pe.zero``: none | gate |
    skip), which the learning ops with a zero operand follow where the activity carries their
    measured counts (:meth:`~simulator.rules.program.WorkBuilder.sparse_ops`).
    """

    name = ""
    label = ""

    def __init__(self, net: Net, params, schedule: str = "step_major", schedule_note: str = "",
                 zero: str = "none"):
        self.net = net
        self.params = params
        self.schedule = schedule
        self.schedule_note = schedule_note or schedule
        self.zero = zero

    @classmethod
    def check(cls, net: Net, params, where: str) -> None:
        """Refuse (UserError naming ``rules.<name>.<field>``) parameters the schema cannot judge
        alone because they depend on the network; the default accepts everything."""

    @abstractmethod
    def works(self, act: ActivityProfile) -> list[Work]:
        """Every Work of a sample, in execution order (see :mod:`simulator.rules.program`)."""

    @abstractmethod
    def state(self) -> list[Hold]:
        """The buffers the rule keeps, in elements, for the ``full`` convention."""

    @abstractmethod
    def learning_steps(self) -> int:
        """Steps that produce a learning signal per sample."""

    def paper_macs(self) -> list[tuple[str, str, str, float]]:
        """(layer, phase, term, MACs per sample) of the paper's #MAC: the MACs that propagate the
        error back through blocks 2..L and the readout (in_features × C), every learning step."""
        n = self.learning_steps()
        rows = [(b.name, "bwd", "paper #MAC: error propagation", float(n * b.F)) for b in self.net.blocks[1:]]
        ro = self.net.readout
        rows.append((ro.name, "bwd", "paper #MAC: error propagation", float(n * ro.N_in * ro.N_pre)))
        return rows

    @abstractmethod
    def paper_memory(self) -> list[Hold]:
        """The paper's memory in elements at 4 bytes (``fp32``)."""


class LocalRule(Rule):
    """What S-TLLR and TESS share: the learning window and the paper's trace memory."""

    def mask(self):
        """1.0 at the learning steps, shape [T] (see :func:`~simulator.rules.program.learning_mask`)."""
        return learning_mask(self.net.T, self.params.window)

    def learning_steps(self) -> int:
        return int(self.mask().sum())

    def paper_memory(self) -> list[Hold]:
        """k = the number of trace kinds: 2 with the post-synaptic trace (alpha_post ≠ 0), else 1."""
        return fitted_memory(self.net, 2 if self.params.alpha_post else 1, "traces", "paper memory: traces")


def fitted_memory(net: Net, k: int, unit: str, term: str) -> list[Hold]:
    """The paper's memory: k × (input + Σ block outputs + the first block's output once more)
    elements at 4 bytes, in buffer ``unit``, under ``term``. A fit to all twelve published
    cells, not a derivation (README)."""
    out = [Hold(unit, "input", "fp32", k * net.N_input, term)]
    for i, b in enumerate(net.blocks):
        out.append(Hold(unit, b.name, "fp32", k * b.N_post * (2 if i == 0 else 1), term))
    return out
