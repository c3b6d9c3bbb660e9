"""What weight standardisation costs on the chip (docs/math.md §1a; the numerics are
:mod:`simulator.functional.standardise`).

The documented choice: the chip keeps the trained W (and one gain per output channel) and a
standardised copy W_eff that every forward and backward pass reads; W_eff is recomputed once per
weight update, right after the optimizer step, so the passes between updates cost nothing extra.
(Recomputing it every forward step instead would trade the W_eff buffer for T times this work.)
``update: per_step`` is refused with standardisation: its backward needs the layer's whole
gradient before any weight changes (:func:`simulator.rules.build_rules`).

Per standardised layer and update, with P = C_out·n weights (n the fan-in) and K = C_out gains,
no pass fused with another (each reads its operands from the buffers):

- backward, before the optimizer (dL/dW_eff, the accumulated gradient, to dL/dW and dL/dgain):
  read G and W (P each) and the channel statistics the last renormalisation kept (mean and s,
  2K); recentre Wc = W − mean (P add); dL/dgain = γ·Σ G·Ŵ (P mac);
  H = γ·gain·G (P mul); Σ H·Wc (P mac); dWc = H/s − Wc·c (P mul, P mac); dW = dWc − mean(dWc)
  (P add for the mean, P add for the subtraction); per channel 2 mul; write dW and dL/dgain
  (P + K) into the accumulator.
- forward, after the optimizer (W_eff = γ·gain·(W − mean)/s): three passes over W (P reads each:
  the mean, the variance, the normalisation), P add for the mean, P add and P mac for the
  centred sum of squares, per channel var·n/(n − 1) and γ·gain/s (2 mul, 1 add, 1 sqrt, 1 div,
  reading the gain), P add and P mul to normalise, P writes of W_eff and 2K of the statistics.

The arithmetic is at the gradient precision (mean and variance need more bits than a weight).
"""

from __future__ import annotations

from tess_sim.simulator.network import Net
from tess_sim.simulator.rules.program import Work, WorkBuilder

#: ledger terms of the buffers a standardised layer adds (weights buffer)
STANDARDISED = "standardised weights W_eff"
GAINS = "standardisation gains"
STATISTICS = "standardisation statistics mean, s"
BACKWARD = "standardisation backward dL/dW, dL/dgain"
FORWARD = "standardisation W_eff = γ·gain·(W − mean)/s"


def standardisation(rule: str, net: Net, direction: str) -> list[Work]:
    """The standardisation work of every standardised block, once per weight update
    (``direction``: ``batch`` or ``sample``, as the rule's optimizer step); none for a net without
    standardised blocks."""
    works = []
    for b in net.blocks:
        if not b.standardised:
            continue
        P, K = b.weights, b.gains
        wb = WorkBuilder(rule, b.name, "update", net.T, direction)
        wb.term(BACKWARD).read("gradients", "gradient", P).read("weights", "weight", P)
        wb.read("weights", "gradient", 2 * K)
        wb.ops("gradient", add=3 * P, mac=3 * P, mul=2 * P + 2 * K)
        wb.write("gradients", "gradient", P + K)
        wb.term(FORWARD).read("weights", "weight", 3 * P).read("weights", "gradient", K)
        wb.ops("gradient", add=3 * P + K, mac=P, mul=P + 2 * K, sqrt=K, div=K)
        wb.write("weights", "weight", P).write("weights", "gradient", 2 * K)
        works.append(wb.build())
    return works
