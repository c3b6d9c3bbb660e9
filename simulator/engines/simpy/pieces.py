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
    ``start[t] : start[t] + n[t]``; ``ints``: [pieces, counts] integer parts of each count
    (actions per sample, or per mini-batch for ``batch`` Works); ``last``: the row of each busy
    step's last piece and ``last_fracs`` [busy steps, counts] the fractional parts it carries
    (:attr:`fracs` spreads them over all rows); ``driver``: [pieces] driver amount (spike events or
    neurons) of each piece."""

    start: np.ndarray
    n: np.ndarray
    step: np.ndarray
    ints: np.ndarray
    last: np.ndarray
    last_fracs: np.ndarray
    _j: np.ndarray
    _size: float
    _d: np.ndarray

    @property
    def fracs(self) -> np.ndarray:
        """[pieces, counts] fractional parts: a step's in its last piece, 0 elsewhere."""
        out = np.zeros_like(self.ints)
        out[self.last] = self.last_fracs
        return out

    @property
    def counts(self) -> np.ndarray:
        """[pieces, counts] ``ints + fracs``."""
        out = self.ints.copy()
        out[self.last] += self.last_fracs
        return out

    @property
    def driver(self) -> np.ndarray:
        j, d, size = self._j, self._d, self._size
        if not np.isfinite(size):
            return d.copy()
        return np.where(d > 0, np.minimum((j + 1) * size, d) - np.minimum(j * size, d), 0.0)

    def per_step(self) -> np.ndarray:
        """[counts, T] the pieces summed back per step: exactly the split counts (ints are
        integer-valued floats below 2^53, the fraction sits alone in the last piece)."""
        T = len(self.n)
        out = np.zeros((self.ints.shape[1], T))
        if len(self.step):
            np.add.at(out.T, self.step, self.ints)
            out.T[self.step[self.last]] += self.last_fracs
        return out


def piece_counts(counts: np.ndarray, driver: np.ndarray, size: float) -> np.ndarray:
    """[T] pieces per step: ``ceil(driver / size)`` (at least one) where some count is non-zero,
    none where the step has no work; one per busy step for ``size = inf``."""
    busy = np.asarray(counts).any(axis=0)
    per = np.maximum(1, np.ceil(np.asarray(driver, dtype=float) / size)) if np.isfinite(size) else 1
    return np.where(busy, per, 0).astype(np.int64)


def split(counts: np.ndarray, driver: np.ndarray, size: float) -> Pieces:
    """Cut ``counts`` [K, T] into pieces of at most ``size`` driver units per step.

    A step with some non-zero count gets ``ceil(driver / size)`` pieces (at least one); a step
    with no work gets none. ``size = inf`` gives one piece per step (phase granularity).
    """
    counts = np.asarray(counts, dtype=float)
    K, T = counts.shape
    driver = np.asarray(driver, dtype=float)
    n = piece_counts(counts, driver, size)
    total = int(n.sum())
    start = np.cumsum(n) - n
    step = np.repeat(np.arange(T), n)
    j = np.arange(total) - start[step]
    d = driver[step]
    nn = n[step]
    last = j == nn - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        end = np.where(d > 0, np.minimum((j + 1) * size, d) / d, (j + 1) / nn)
    end[last] = 1.0
    ci = np.ascontiguousarray(np.floor(counts).T)  # [T, K]
    # integer part: floor(c · end) − floor(c · begin); a piece begins where the one before it in
    # its step ended (the same expression), the first piece at 0 (floor(c · 0) = 0)
    upto = ci[step]  # [P, K]
    np.multiply(upto, end[:, None], out=upto)
    np.floor(upto, out=upto)
    ints = np.empty_like(upto)
    if total:
        ints[0] = upto[0]
        np.subtract(upto[1:], upto[:-1], out=ints[1:])
        first = j == 0
        ints[first] = upto[first]
    rows = np.flatnonzero(last)
    steps = step[rows]
    fracs = np.ascontiguousarray(counts.T[steps]) - ci[steps]  # exact: ci is an integer ≤ c
    return Pieces(start, n, step, ints, rows, fracs, j, size, d)
