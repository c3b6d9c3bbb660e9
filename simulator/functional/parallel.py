"""Elementwise and copy work of the engine spread over the machine's cores.

BLAS runs the GEMMs on every core, but numpy runs each elementwise operation and copy on one;
on VGG-9 that work (im2col, the LIF recurrence, the learning signals) is about as long as the
GEMMs.  Numpy releases the GIL inside such loops, so a few threads, each on its own contiguous
part of the arrays, run it in parallel.  Work is split only when each part has at least
:data:`MIN_PART` elements (small networks stay on one thread).
"""

from __future__ import annotations

import os

import numpy as np
from concurrent.futures import ThreadPoolExecutor

#: the fewest elements per part worth a thread (smaller work runs on the calling thread)
MIN_PART = 1 << 16

_pool: ThreadPoolExecutor | None = None
_pool_pid = 0  # a forked child must not use its parent's (threadless) pool


def workers() -> int:
    """Threads to use: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def parts(n: int, elements_per_index: int = 1) -> list[slice]:
    """Split ``range(n)`` into contiguous slices, one per worker, each of at least
    :data:`MIN_PART` elements (``elements_per_index`` elements per index)."""
    k = max(1, min(workers(), n, (n * elements_per_index) // MIN_PART))
    bounds = [n * i // k for i in range(k + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(k)]


def run_parts(fn, slices) -> list:
    """``[fn(s) for s in slices]`` (slices, or any items, e.g. the parts' indices), in threads
    when there is more than one."""
    slices = list(slices)
    if len(slices) == 1:
        return [fn(slices[0])]
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():
        _pool = ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="tess-sim")
        _pool_pid = os.getpid()
    return list(_pool.map(fn, slices))


def step_columns(*arrays: np.ndarray) -> list[np.ndarray] | None:
    """Arrays ``[T, ...]`` of one shape as ``[T, P]`` views in the memory order of the first
    (P = the elements of one step, column j the same element in every array), when each of them
    is laid out that way, step after step (the engine's maps, stored channels-last, are); else
    None.  Elementwise work on the elements of a step can then be split by column."""
    a0 = arrays[0]
    order = [0, *sorted(range(1, a0.ndim), key=lambda i: -a0.strides[i])]
    out = []
    for a in arrays:
        v = a.transpose(order)
        if a.shape != a0.shape or a.ndim < 2 or not v.flags.c_contiguous:
            return None
        out.append(v.reshape(a.shape[0], -1))
    return out
