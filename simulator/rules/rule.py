"""The interface every rule program implements (one subclass per rule module)."""

from __future__ import annotations

from ..activity import ActivityProfile
from ..network import Net
from .program import Hold, Work


class Rule:
    """A learning rule's program on one network: its Works, its state, and the paper's counts.

    ``params`` is the rule's validated workload section (e.g. ``TESSRule``).
    """

    name = ""
    label = ""

    def __init__(self, net: Net, params):
        self.net = net
        self.params = params

    def works(self, act: ActivityProfile) -> list[Work]:
        """Every Work of a sample, in execution order (see :mod:`simulator.rules.program`)."""
        raise NotImplementedError

    def state(self) -> list[Hold]:
        """The buffers the rule keeps, in elements, for the ``full`` convention."""
        raise NotImplementedError

    def learning_steps(self) -> int:
        """Steps that produce a learning signal per sample."""
        raise NotImplementedError

    def paper_macs(self) -> list[tuple[str, str, float]]:
        """(layer, phase, MACs per sample) of the paper's #MAC: the MACs that propagate the error
        back through blocks 2..L and the readout (in_features × C), every learning step."""
        n = self.learning_steps()
        rows = [(b.name, "bwd", float(n * b.F)) for b in self.net.blocks[1:]]
        ro = self.net.readout
        rows.append((ro.name, "bwd", float(n * ro.N_in * ro.N_pre)))
        return rows

    def paper_memory(self) -> list[Hold]:
        """The paper's memory in elements at 4 bytes (``fp32``)."""
        raise NotImplementedError
