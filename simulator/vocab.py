"""The words every layer shares: phases, op kinds, buffer kinds, rule names and labels.

The bottom layer (README, "How the code is laid out"): it imports nothing of ours, and every
other module spells these names through it.
"""

from __future__ import annotations

import difflib

#: phases of a training sample, in execution order; ``fwd`` + ``neuron`` are inference
PHASES = ("fwd", "neuron", "trace", "lsg", "bwd", "wgrad", "update")
INFERENCE_PHASES = ("fwd", "neuron")
LEARNING_PHASES = ("trace", "lsg", "bwd", "wgrad", "update")

#: arithmetic operation kinds of the ledger's ``action`` column (each one op per element)
OP_KINDS = ("mac", "ac", "add", "mul", "cmp", "exp", "div", "sqrt")

#: directions of a Work's time loop: forward in t, backward in t, once per sample (after the
#: backward pass), or once per mini-batch
DIRECTIONS = ("forward", "backward", "sample", "batch")
#: the directions that run once, not per step
ONCE = ("sample", "batch")

#: buffer kinds of the ledger's ``unit`` column for ``hold`` / ``read`` / ``write`` rows
BUFFER_KINDS = ("weights", "membrane", "traces", "history", "errors", "gradients", "optimizer", "lsg",
                "spikes")

#: bytes in a MiB: every ``*_MB`` column and printed "MB" is MiB
MB = 2 ** 20

#: rule name → label as printed (tables, plots, reports)
RULE_LABELS = {"bptt": "BPTT", "stllr": "S-TLLR", "tess": "TESS"}
RULE_NAMES = tuple(RULE_LABELS)


def did_you_mean(name: str, known, cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``known``, or ``""``."""
    hint = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=cutoff)
    return f" (did you mean '{hint[0]}'?)" if hint else ""
