"""tess-sim: neuromorphic hardware simulator and cost profiler for on-chip learning in SNNs."""

__version__ = "0.1.0"
