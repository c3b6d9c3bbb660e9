"""The compiled kernels (``_kernels.c``), bound with ctypes; the numpy code is the fallback.

``pip install`` compiles ``_kernels.c`` when the machine has a C compiler (setup.py; the
extension is optional: without one the install still succeeds and the engine runs its numpy
code).  Each kernel is one pass over memory doing what several numpy sweeps do, with the same
arithmetic in the same order, so both paths give bit-identical results (tests/functional/
test_kernels.py); the weight standardisation sums in double, within float rounding of numpy's.

:func:`get` returns the library for a dtype (float32 / float64), or None when the kernels are
not built, the dtype has none, or ``TESS_SIM_KERNELS=numpy`` is set (:func:`disabled` does the
same in a ``with`` block, for tests and benchmarks).  ctypes releases the GIL during a call, so
the thread pool of :mod:`~simulator.functional.parallel` runs one call per part.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
from contextlib import contextmanager

import numpy as np

from tess_sim.simulator.functional.parallel import parts, run_parts

#: the interface version this module binds (``tess_kernels_version`` of the library)
VERSION = 4

_P = ctypes.c_void_p
_L = ctypes.c_long
_I = ctypes.c_int
_D = ctypes.c_double

_lib: ctypes.CDLL | None = None
_loaded = False
_off = 0  # nesting depth of disabled()


def _signatures(t) -> dict[str, tuple]:
    """argtypes per kernel name for element type ``t`` (ctypes.c_float / c_double)."""
    return {
        "lif": (_P, _P, _P, _P, _P, _L, _L, _L, t, t, t, _I, _I, t, t),
        "eligibility": (_P, _P, _P, _P, _L, _L, _L, _L, _L, t, t, t, t),
        "maxpool": (_P, _P, _P, _L, _L, _L, _L, _L, _L, _L, _L, _L),
        "maxpool_grad": (_P, _P, _P, _L, _L, _L, _L, _L, _L, _L, _L, _L),
        "im2col": (_P, _P, _L, _L, _L, _L, _L, _L, _L, _L, _L, _L),
        "col2im": (_P, _P, _L, _L, _L, _L, _L, _L, _L, _L, _L, _L),
        "to_hwio": (_P, _P, _L, _L, _L, _L, _L),
        "from_hwio": (_P, _P, _L, _L, _L, _L, _L),
        "standardise": (_P, _P, _P, _P, _P, _L, _L, _L, _L, t, _D),
        "standardise_grad": (_P, _P, _P, _P, _P, _P, _P, _L, _L, _L, _L, t),
    }


#: kernels that return 0, or -1 when out of memory
_CHECKED = ("lif", "eligibility", "standardise", "standardise_grad")


def _load() -> ctypes.CDLL | None:
    spec = importlib.util.find_spec("tess_sim.simulator.functional._kernels")
    if spec is None or not spec.origin:
        return None
    try:
        lib = ctypes.CDLL(spec.origin)
    except OSError:
        return None
    lib.tess_kernels_version.restype = _L
    if lib.tess_kernels_version() != VERSION:
        return None
    for suffix, t in (("f32", ctypes.c_float), ("f64", ctypes.c_double)):
        for name, args in _signatures(t).items():
            fn = getattr(lib, f"{name}_{suffix}")
            fn.argtypes = args
            fn.restype = _I if name in _CHECKED else None
    return lib


def built() -> bool:
    """Whether the compiled kernels are installed (whatever :func:`disabled` says)."""
    global _lib, _loaded
    if not _loaded:
        _lib, _loaded = _load(), True
    return _lib is not None


class _Typed:
    """The library's kernels of one element type: ``k.lif(...)`` calls ``lif_f32`` etc."""

    def __init__(self, lib: ctypes.CDLL, suffix: str, ctype):
        self.lib, self.suffix, self.ctype = lib, suffix, ctype

    def __getattr__(self, name):
        fn = getattr(self.lib, f"{name}_{self.suffix}")
        if name not in _CHECKED:
            return fn

        def checked(*args):
            if fn(*args) != 0:
                raise MemoryError(f"compiled kernel {name}: out of memory")
        return checked


_TYPES = {np.dtype(np.float32): ("f32", ctypes.c_float), np.dtype(np.float64): ("f64", ctypes.c_double)}


def get(dtype) -> _Typed | None:
    """The kernels for arrays of ``dtype``, or None (numpy path): not built, another dtype,
    ``TESS_SIM_KERNELS=numpy``, or inside :func:`disabled`."""
    dt = np.dtype(dtype)
    if _off or dt not in _TYPES or os.environ.get("TESS_SIM_KERNELS", "") == "numpy" or not built():
        return None
    return _Typed(_lib, *_TYPES[dt])


def typed(dtype) -> _Typed:
    """The built kernels for ``dtype`` whatever the switches say: for the second half of work
    whose first half ran compiled (a backward whose cache the kernels made)."""
    if not built():
        raise RuntimeError("the compiled kernels are not built")
    return _Typed(_lib, *_TYPES[np.dtype(dtype)])


@contextmanager
def disabled():
    """Run the numpy path inside the block (to compare the two, or time the numpy one)."""
    global _off
    _off += 1
    try:
        yield
    finally:
        _off -= 1


def _ptr(a: np.ndarray) -> int:
    return a.ctypes.data


def _row_stride(a: np.ndarray) -> int | None:
    """Row stride in elements of a 2-D view whose rows are contiguous, else None."""
    if a.ndim != 2 or (a.shape[1] > 1 and a.strides[1] != a.itemsize):
        return None
    return a.strides[0] // a.itemsize


def lif(k: _Typed, cur, o, u, ps, p, counts=None, *, reset: float) -> None:
    """:func:`~simulator.functional.neuron._lif_loop` (same arguments, and what a spike
    subtracts, ``neuron.reset_value(p)``) on ``[T, n]`` step columns, written in place; ``u``
    may be ``cur``; ``ps`` None: no Psi; ``counts`` None or int64 ``[T]``: each step's spikes
    are added to it."""
    if counts is not None and (counts.dtype != np.int64 or not counts.flags.c_contiguous):
        raise ValueError("lif kernel: counts must be a contiguous int64 array")
    ld = _row_stride(cur)
    if not all(_row_stride(a) == ld for a in (u, o) + ((ps,) if ps is not None else ())):
        raise ValueError("lif kernel: the step columns must share one row stride")
    tri = p.psi.shape == "triangle"
    k.lif(_ptr(cur), _ptr(u), _ptr(o), None if ps is None else _ptr(ps),
          None if counts is None else _ptr(counts), cur.shape[0],
          cur.shape[1], ld, p.beta, p.theta, reset, int(p.reset != "subtract"),
          0 if tri else 1, p.psi.width if tri else p.psi.slope, p.psi.gamma if tri else 1.0)


def eligibility(k: _Typed, m, ps, e, tr, w0: int, params) -> None:
    """:func:`~simulator.functional.rules._eligibility_loop` without bias sums on ``[T, n]``
    step columns (``m [T - w0, n]``; ``tr`` None when α_post = 0)."""
    ld = _row_stride(ps)
    if _row_stride(e) != ld or (tr is not None and _row_stride(tr) != ld):
        raise ValueError("eligibility kernel: ps, e and tr must share one row stride")
    k.eligibility(_ptr(m), _ptr(ps), _ptr(e), None if tr is None else _ptr(tr), ps.shape[0],
                  w0, ps.shape[1], ld, _row_stride(m), params.lambda_pre, params.lambda_post,
                  params.alpha_pre, params.alpha_post)


def maxpool(k: _Typed, x: np.ndarray, kh: int, kw: int, ho: int, wo: int):
    """Max pool of a C-contiguous channels-last ``x [N, H, W, C]``: (out ``[N, Ho, Wo, C]``,
    first-maximum offsets ``uint8 [N, Ho, Wo, C]``), split by sample among threads."""
    n, h, w, c = x.shape
    out = np.empty((n, ho, wo, c), dtype=x.dtype)
    idx = np.empty((n, ho, wo, c), dtype=np.uint8)
    run_parts(lambda r: k.maxpool(_ptr(x), _ptr(out), _ptr(idx), r.start, r.stop, h, w, c,
                                  kh, kw, ho, wo), parts(n, h * w * c))
    return out, idx


def maxpool_grad(k: _Typed, g: np.ndarray, idx: np.ndarray, h: int, w: int, kh: int, kw: int):
    """Backward of :func:`maxpool`: C-contiguous ``g [N, Ho, Wo, C]`` -> ``[N, H, W, C]``."""
    n, ho, wo, c = g.shape
    out = np.empty((n, h, w, c), dtype=g.dtype)
    run_parts(lambda r: k.maxpool_grad(_ptr(g), _ptr(idx), _ptr(out), r.start, r.stop, h, w, c,
                                       kh, kw, ho, wo), parts(n, h * w * c))
    return out


def im2col(k: _Typed, x: np.ndarray, kernel: int, stride: int, padding: int, ho: int, wo: int):
    """Receptive fields of a C-contiguous channels-last ``x [N, H, W, C]``:
    ``cols [N*Ho*Wo, k*k*C]`` (:func:`~simulator.functional.conv.im2col`'s layout)."""
    n, h, w, c = x.shape
    cols = np.empty((n, ho, wo, kernel, kernel * c), dtype=x.dtype)
    run_parts(lambda r: k.im2col(_ptr(x), _ptr(cols), r.start, r.stop, h, w, c, kernel, stride,
                                 padding, ho, wo), parts(n, ho * wo * kernel * kernel * c))
    return cols.reshape(n * ho * wo, kernel * kernel * c)


def col2im(k: _Typed, dcols: np.ndarray, h: int, w: int, stride: int, padding: int):
    """The transposed conv's scatter: C-contiguous ``dcols [N, Ho, Wo, k, k, C]`` -> the
    C-contiguous channels-last map ``[N, H, W, C]`` (:func:`~simulator.functional.conv.
    conv2d_transpose`), split by sample among threads."""
    n, ho, wo, kernel, _, c = dcols.shape
    dx = np.empty((n, h, w, c), dtype=dcols.dtype)
    run_parts(lambda r: k.col2im(_ptr(dcols), _ptr(dx), r.start, r.stop, h, w, c, kernel, stride,
                                 padding, ho, wo), parts(n, h * w * c))
    return dx


def to_hwio(k: _Typed, w: np.ndarray) -> np.ndarray:
    """C-contiguous conv kernels ``w [C_out, C_in, kh, kw]`` (OIHW) -> the C-contiguous HWIO
    copy ``[kh*kw*C_in, C_out]`` (the GEMM operand), split by output channel."""
    co, ci, kh, kw = w.shape
    wt = np.empty((kh * kw * ci, co), dtype=w.dtype)
    run_parts(lambda r: k.to_hwio(_ptr(w), _ptr(wt), r.start, r.stop, ci, kh * kw, co),
              parts(co, ci * kh * kw))
    return wt


def from_hwio(k: _Typed, wt: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`to_hwio`: ``wt [kh*kw*C_in, C_out]`` -> C-contiguous ``shape`` (OIHW)."""
    co, ci, kh, kw = shape
    w = np.empty(shape, dtype=wt.dtype)
    run_parts(lambda r: k.from_hwio(_ptr(wt), _ptr(w), r.start, r.stop, ci, kh * kw, co),
              parts(co, ci * kh * kw))
    return w


def standardise(k: _Typed, wt: np.ndarray, gain: np.ndarray, gamma: float, eps: float):
    """Standardise C-contiguous HWIO kernels ``wt [n, C_out]`` (n the fan-in) by column:
    (W_eff ``[n, C_out]``, mean ``[C_out]``, s ``[C_out]``), split by output channel."""
    n, co = wt.shape
    gain = np.ascontiguousarray(gain, dtype=wt.dtype)
    eff = np.empty_like(wt)
    mean = np.empty(co, dtype=wt.dtype)
    s = np.empty(co, dtype=wt.dtype)
    run_parts(lambda r: k.standardise(_ptr(wt), _ptr(gain), _ptr(eff), _ptr(mean), _ptr(s),
                                      r.start, r.stop, n, co, gamma, eps), parts(co, n))
    return eff, mean, s


def standardise_grad(k: _Typed, G: np.ndarray, wt: np.ndarray, gain: np.ndarray,
                     mean: np.ndarray, s: np.ndarray, gamma: float):
    """Backward of :func:`standardise`: C-contiguous ``G = dL/dW_eff [n, C_out]`` ->
    (dL/dW ``[n, C_out]``, dL/dgain ``[C_out]``), split by output channel."""
    n, co = wt.shape
    gain = np.ascontiguousarray(gain, dtype=wt.dtype)
    dw = np.empty_like(wt)
    dgain = np.empty(co, dtype=wt.dtype)
    run_parts(lambda r: k.standardise_grad(_ptr(G), _ptr(wt), _ptr(gain), _ptr(mean), _ptr(s),
                                           _ptr(dw), _ptr(dgain), r.start, r.stop, n, co,
                                           gamma), parts(co, n))
    return dw, dgain
