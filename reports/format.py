"""Numbers for people: thousands separators, four significant digits, percentages, powers of
ten without ``e+09``, and "—" where a value does not apply (NaN / None)."""

from __future__ import annotations

import math

import numpy as np

NA = "—"
_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def missing(v) -> bool:
    """True for None, NaN and ±inf."""
    if v is None:
        return True
    try:
        return not math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def number(v, digits: int = 4) -> str:
    """``3,011,235,922``; ``15,056``; ``22.7``; ``0.1721``; ``1.2×10⁻⁵``; "—" for NaN / None;
    text as given. ``digits`` significant digits below 1,000 (integers shown whole)."""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if missing(v):
        return NA if v is None or isinstance(v, (float, np.floating, int, np.integer)) else str(v)
    if isinstance(v, str):
        return v
    x = float(v)
    if x == 0:
        return "0"
    if abs(x) >= 1000 or (x == round(x) and abs(x) < 1e15):
        return f"{x:,.0f}" if abs(x) < 1e15 else power(x)
    if abs(x) >= 1e-3:
        return f"{x:,.{digits}g}" if abs(x) >= 1 else f"{x:.{digits}g}"
    return power(x, digits)


def power(x: float, digits: int = 3) -> str:
    """``1.2×10⁻⁵`` (a mantissa of 1 is left out: ``10¹⁵``)."""
    exp = math.floor(math.log10(abs(x)) + 1e-12)
    mant = round(x / 10 ** exp, digits - 1)
    if abs(mant) >= 10:
        mant, exp = mant / 10, exp + 1
    p = "10" + str(exp).translate(_SUP)
    return p if mant == 1 else f"{mant:.{digits}g}×{p}"


def percent(v, digits: int = 1) -> str:
    """A fraction (0.172) as ``17.2%``; "—" when missing."""
    return NA if missing(v) else f"{100 * float(v):.{digits}f}%"


def ratio(v) -> str:
    """A ratio to BPTT: ``0.796×``; "—" when missing."""
    return NA if missing(v) else f"{float(v):.3g}×"
