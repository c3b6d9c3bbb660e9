"""Keep freed arrays' memory in the process, for loops that allocate the same large arrays
again and again (a training step, a benchmark round).

glibc's malloc serves every block above its mmap threshold (at most 32 MiB, 128 KiB to start)
with a fresh ``mmap`` and gives it back to the kernel on ``free``.  The engine's step makes and
drops hundreds of MB of such arrays (im2col copies, membranes, traces, learning signals), so
each step page-faults and zero-fills all of them anew: on VGG-9 at width 1 that was ~17,000
faults and 0.1 s of kernel time per sample, a fifth of the step.  :func:`keep_freed_memory`
asks malloc to serve them from its heap instead (``M_MMAP_MAX`` 0) and not to trim the heap
(``M_TRIM_THRESHOLD`` at its maximum), so the next step reuses the same pages.  The cost: the
process keeps its peak memory until it exits.  A process-wide setting, made only by the
loops that want it (training, the benchmarks); a no-op where the C library has no ``mallopt``.
"""

from __future__ import annotations

import ctypes

#: glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4

_done = False


def keep_freed_memory() -> bool:
    """Set malloc to keep freed memory for reuse (module docstring); True when it took effect.
    Idempotent."""
    global _done
    if _done:
        return True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _done = bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, 2 ** 31 - 1))
    return _done
