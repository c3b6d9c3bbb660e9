"""tess-sim: neuromorphic hardware simulator and cost profiler for on-chip learning in SNNs.

The application: the API below, the ``tess-sim`` CLI (:mod:`tess_sim.cli`), sweeps, the trainer,
the paper table and run-folder writing. It alone imports every layer (README, "How the code is
laid out").

>>> import tess_sim
>>> res = tess_sim.run(tess_sim.load("dvs"))
>>> res.summary[["paper_mac_M", "paper_memory_MB"]]
"""

from tess_sim.version import __version__
from tess_sim.api import Results, complexity, fit_slopes, load, run
from tess_sim.sweeps import sweep

__all__ = ["__version__", "Results", "load", "run", "complexity", "fit_slopes", "sweep"]
