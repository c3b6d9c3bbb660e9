"""LIF neuron and eligibility traces as pure step functions with explicit state (docs/math.md §1, §3).

State is passed in and returned; nothing is hidden.  Shapes: any (batch-first) array shape,
elementwise.  Membrane potentials are dimensionless (threshold units as in the paper).

The parameters are the workload's :class:`~simulator.workload.Neuron` of a block (its
``Block.neuron``, layer overrides merged): ``beta``, ``theta``, ``v_reset`` (None: theta),
``reset`` "subtract" | "zero", and ``psi`` — "triangle" gamma·max(0, 1 − |u − theta|/width) or
"fast_sigmoid" 1/(slope·|u − theta| + 1)² (no gamma factor, as in snnTorch / the reference
linear layer).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from tess_sim.simulator.functional import kernels
from tess_sim.simulator.functional.parallel import parts, run_parts, step_columns
from tess_sim.simulator.workload import Neuron


def reset_value(p: Neuron) -> float:
    """What a spike subtracts from the membrane ("subtract" reset): v_reset, or theta when None
    (the reference TESS conv layer uses 1.0, its BPTT baseline 0.6)."""
    return p.theta if p.v_reset is None else p.v_reset


def psi(u: np.ndarray, p: Neuron, out: np.ndarray | None = None) -> np.ndarray:
    """Surrogate derivative dH/du, the "secondary activation" of the traces (same shape, dtype
    and memory layout as u; the arithmetic runs in place on one buffer, ``out`` if given)."""
    z = np.subtract(u, p.theta, out=out)
    np.abs(z, out=z)
    if p.psi.shape == "triangle":
        z /= p.psi.width
        np.subtract(1.0, z, out=z)
        np.maximum(0.0, z, out=z)
        z *= p.psi.gamma
        return z
    z *= p.psi.slope
    z += 1.0
    z *= z
    return np.divide(1.0, z, out=z)


def psi_integral(u: np.ndarray, p: Neuron) -> np.ndarray:
    """A smooth step S with S' = Psi: the emitted spike of the test-only smooth forward
    (``forward(..., smooth_forward=True)``, which makes the BPTT gradient the true derivative
    so that finite differences can check it)."""
    x = u - p.theta
    if p.psi.shape == "triangle":
        w = p.psi.width
        a = np.clip(x, -w, w)
        # integral of gamma*(1-|v|/w) from -w to a, plus 0 below -w
        val = p.psi.gamma * (a + w - np.sign(a) * a * a / (2 * w) - w / 2)
        return val.astype(u.dtype, copy=False)
    s = p.psi.slope
    return (np.sign(x) * (1.0 - 1.0 / (s * np.abs(x) + 1.0)) / s).astype(u.dtype, copy=False)


def lif_step(u_plus: np.ndarray, current: np.ndarray, p: Neuron):
    """One LIF step.

    Args: ``u_plus`` the post-reset membrane u+[t-1] (zeros at t = 0), ``current`` I[t].
    Returns ``(o, u, u_plus_new)``: the Heaviside spike o[t] = H(u[t]-theta) (strict >, same
    dtype as u), the pre-reset membrane u[t] = beta*u+[t-1] + I[t], and u+[t].
    """
    u = p.beta * u_plus + current
    o = (u > p.theta).astype(u.dtype)
    if p.reset == "subtract":
        u_new = u - reset_value(p) * o
    else:
        u_new = u * (1.0 - o)
    return o, u, u_new


def lif_sequence(current: np.ndarray, p: Neuron, with_psi: bool = False,
                 in_place: bool = False, counts: bool = False) -> tuple[np.ndarray, ...]:
    """:func:`lif_step` over the leading time axis: ``I [T, ...] -> (o [T, ...], u [T, ...])``,
    and ``psi(u)`` with ``with_psi`` (each step's Psi made while its u is in cache), then with
    ``counts`` the spikes of each step ``int64 [T]`` (counted as they are made).  Same
    arithmetic as lif_step, written in place into the outputs, which keep the layout of I;
    ``in_place``: u overwrites I (the caller no longer needs the currents).  The neurons are
    independent: large maps are split among threads (:mod:`~simulator.functional.parallel`),
    each part one call of the compiled kernel where it is built (:mod:`.kernels`)."""
    o = np.empty_like(current)
    u = current if in_place else np.empty_like(current)
    ps = np.empty_like(current) if with_psi else None
    arrays = [current, o, u] + ([ps] if with_psi else [])
    cols = step_columns(*arrays)
    if cols is None:  # an unusual layout: one thread on the arrays as they are
        cols, cut = arrays, [slice(None)]
    else:
        cut = parts(cols[0].shape[1], current.shape[0])
    k = kernels.get(current.dtype) if cols is not arrays else None
    loop = _lif_loop if k is None else partial(kernels.lif, k, reset=reset_value(p))
    fired = np.zeros((len(cut), current.shape[0]), dtype=np.int64)
    run_parts(lambda i: loop(*(c[:, cut[i]] for c in cols[:3]),
                             cols[3][:, cut[i]] if with_psi else None, p,
                             fired[i] if counts else None),
              range(len(cut)))
    return (o, u) + ((ps,) if with_psi else ()) + ((fired.sum(axis=0),) if counts else ())


def _lif_loop(current, o, u, ps, p: Neuron, counts=None) -> None:
    """The recurrence of :func:`lif_sequence` on one part of the neurons (views, written in
    place); ``counts [T]`` (int64) gets each step's spikes added when given."""
    state = np.zeros_like(current[0])
    reset = reset_value(p)
    for t in range(current.shape[0]):
        np.multiply(p.beta, state, out=state)
        np.add(state, current[t], out=u[t])  # u[t] = beta*u+[t-1] + I[t]
        np.greater(u[t], p.theta, out=o[t])
        if counts is not None:
            counts[t] += np.count_nonzero(o[t])
        if p.reset == "subtract":
            np.multiply(reset, o[t], out=state)
            np.subtract(u[t], state, out=state)
        else:
            np.subtract(1.0, o[t], out=state)
            np.multiply(u[t], state, out=state)
        if ps is not None:
            psi(u[t], p, out=ps[t])


def trace_step(trace: np.ndarray, x: np.ndarray, lam: float) -> np.ndarray:
    """tr[t] = lam * tr[t-1] + x[t]."""
    return lam * trace + x


def trace_sequence(x: np.ndarray, lam: float, out: np.ndarray | None = None) -> np.ndarray:
    """Traces over the leading time axis (tr[-1] = 0), same shape as x: tr[t] = lam*tr[t-1] + x[t]
    (:func:`trace_step`).  ``out`` may be x itself (in place); default a new array in x's
    layout."""
    out = np.empty_like(x) if out is None else out
    out[0] = x[0]
    for t in range(1, x.shape[0]):
        np.add(lam * out[t - 1], x[t], out=out[t])
    return out
