"""Splitting a Work's per-step counts into pieces (one SimPy task each), exactly.

A Work's counts at step t are cut into ``n_t`` pieces along a *driver*: the input spike events of
event-driven synaptic integration, or the layer's neurons for every other phase. Every count is
split in proportion to the driver, its integer part by telescoping floors (integers, so the pieces
sum exactly) and its fractional part (expected counts of ``rates``) in the step's last piece, so
``int + frac`` over the pieces of a step is *exactly* the Work's count: count parity with the
analytical engine holds by construction, not to a tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pieces:
    """Pieces of one Work over all steps. ``start[t]``, ``n[t]``: the pieces of step t are rows
    ``start[t] : start[t] + n[t]``; ``ints`` / ``fracs``: [pieces, counts] integer and fractional
    parts of each count (actions per sample, or per mini-batch for ``batch`` Works);
    ``driver``: [pieces] driver amount (spike events or neurons) of each piece."""

    start: np.ndarray
    n: np.ndarray
    step: np.ndarray
    ints: np.ndarray
    fracs: np.ndarray
    driver: np.ndarray

    @property
    def counts(self) -> np.ndarray:
        return self.ints + self.fracs

    def per_step(self) -> np.ndarray:
        """[counts, T] the pieces summed back per step: exactly the split counts (ints are
        integer-valued floats below 2^53, the fraction sits alone in the last piece)."""
        T = len(self.n)
        out = np.zeros((self.ints.shape[1], T))
        if len(self.step):
            np.add.at(out.T, self.step, self.ints)
            np.add.at(out.T, self.step, self.fracs)
        return out


def split(counts: np.ndarray, driver: np.ndarray, size: float) -> Pieces:
    """Cut ``counts`` [K, T] into pieces of at most ``size`` driver units per step.

    A step with some non-zero count gets ``ceil(driver / size)`` pieces (at least one); a step
    with no work gets none. ``size = inf`` gives one piece per step (phase granularity).
    """
    counts = np.asarray(counts, dtype=float)
    K, T = counts.shape
    driver = np.asarray(driver, dtype=float)
    busy = counts.any(axis=0)
    n = np.where(busy, np.maximum(1, np.ceil(driver / size) if np.isfinite(size) else 1), 0).astype(np.int64)
    total = int(n.sum())
    start = np.cumsum(n) - n
    step = np.repeat(np.arange(T), n)
    j = np.arange(total) - start[step]
    d = driver[step]
    nn = n[step]
    last = j == nn - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        end = np.where(d > 0, np.minimum((j + 1) * size, d) / d, (j + 1) / nn)
        begin = np.where(d > 0, np.minimum(j * size, d) / d, j / nn)
    end[last] = 1.0
    begin[j == 0] = 0.0
    ci = np.floor(counts)  # [K, T]
    frac = counts - ci  # exact: ci is an integer ≤ c
    cis = ci[:, step].T  # [P, K]
    ints = np.floor(cis * end[:, None]) - np.floor(cis * begin[:, None])
    fracs = np.where(last[:, None], frac[:, step].T, 0.0)
    drv = np.where(d > 0, np.minimum((j + 1) * size, d) - np.minimum(j * size, d), 0.0) if np.isfinite(size) \
        else d.copy()
    return Pieces(start, n, step, ints, fracs, drv)
