"""tess-sim: neuromorphic hardware simulator and cost profiler for on-chip learning in SNNs.

This package is the application: the API (:mod:`tess_sim.api`: ``load``, ``run``,
``complexity``; sweeps in :mod:`tess_sim.sweeps`), the ``tess-sim`` CLI, the trainer, the paper
table and run-folder writing. The kernel is :mod:`tess_sim.simulator`, the price list
:mod:`tess_sim.cost_models`, the report :mod:`tess_sim.reports` (README, "How the code is laid
out"). It is kept light: Python imports it before any of its subpackages.

>>> from tess_sim.api import load, run
>>> res = run(load("dvs"))
>>> res.summary[["paper_mac_M", "paper_memory_MB"]]
"""

import os as _os

# OpenBLAS's worker threads spin-wait 2^28 cycles (~0.1 s) after each GEMM before they sleep; on
# a 2-core machine they take a core from the functional engine's own threads, which run the
# elementwise work between the GEMMs, and make it about 2x slower (docs/functional.md, "Speed").
# 2^4 cycles: they sleep at once.  A default only, and read only if numpy has not loaded
# OpenBLAS yet (the CLI imports this first).
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from tess_sim.version import __version__  # noqa: E402

__all__ = ["__version__"]
