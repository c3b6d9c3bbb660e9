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

from tess_sim.version import __version__

__all__ = ["__version__"]
