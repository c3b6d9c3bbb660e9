"""A cost curve: a few published points joined in log-log space, extended by a stated exponent.

Every scaling rule of the cost models is one :class:`Curve`:

- ``y(x)`` at a published x is the published y, exactly;
- between two published points, y follows the power law through them (log-log interpolation:
  the only interpolation that keeps a power law a power law; e.g. Horowitz's 8-bit and 32-bit
  integer multiplies, 0.2 and 3.1 pJ, give a 16-bit multiply of sqrt(0.2 · 3.1) = 0.787 pJ);
- outside the points, y ∝ x^exponent from the nearest point (adders ∝ bits, exponent 1;
  multipliers ∝ bits², exponent 2; memories ∝ capacity^alpha).

With one point the curve is a pure power law through it. With increasing points and a
non-negative exponent the curve is non-decreasing in x (the property tests check it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Curve:
    """y(x) from ``points`` {x: y} (x > 0, y > 0) and the extrapolation ``exponent``."""

    points: tuple[tuple[float, float], ...]
    exponent: float

    @classmethod
    def of(cls, points: dict, exponent: float) -> "Curve":
        return cls(tuple(sorted((float(x), float(y)) for x, y in points.items())), float(exponent))

    def __call__(self, x) -> np.ndarray:
        """y at x (array-like, x > 0); float array of x's shape."""
        x = np.asarray(x, dtype=float)
        xs = np.array([p[0] for p in self.points])
        ys = np.array([p[1] for p in self.points])
        lx, ly = np.log(xs), np.log(ys)
        inner = np.exp(np.interp(np.log(x), lx, ly))
        below = ys[0] * (x / xs[0]) ** self.exponent
        above = ys[-1] * (x / xs[-1]) ** self.exponent
        return np.where(x < xs[0], below, np.where(x > xs[-1], above, inner))
