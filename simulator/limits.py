"""Size limits of a workload, in one place (documented in docs/limits.md and in the schema).

They refuse, at load time, what cannot run on one machine (memory or number sizes), not what is
merely slow. Every shipped workload, sweeps of T up to 4,096 and width multipliers up to 8 stay
far inside them (16× or more headroom).
"""

from __future__ import annotations

#: time steps per sample (``input.T``, ``report.complexity_T``, learning ``window``)
MAX_T = 65_536
#: channels / features of one layer after ``network.width_multiplier`` (and ``input.classes``)
MAX_CHANNELS = 65_536
#: elements of one map: the input (prod of ``input.shape``), any layer's input or neurons
MAX_LAYER_ELEMENTS = 2 ** 26
#: elements of all maps together (input + every layer's neurons)
MAX_TOTAL_ELEMENTS = 2 ** 28
#: weights (+ biases) of one layer, and of the whole network
MAX_LAYER_WEIGHTS = 2 ** 32
MAX_TOTAL_WEIGHTS = 2 ** 34
#: memory of the per-step count arrays (T × layers × rules × BYTES_PER_STEP) of one run
MAX_STEP_BYTES = 4 * 2 ** 30
BYTES_PER_STEP = 200  # measured: bytes per (step, layer, rule) of the analytical engine
#: points of one sweep grid (the product of every swept key's value count)
MAX_GRID_POINTS = 100_000
#: nodes of one YAML document with every alias expanded (a billion-laughs document is refused)
MAX_YAML_NODES = 100_000
#: samples of one mini-batch (``input.batch``, ``training.batch``, measured ``samples``)
MAX_BATCH = 65_536
#: cores of one chip (the mapping search is cores × layers)
MAX_CORES = 4_096
#: bit width of any stored value or memory word
MAX_BITS = 1_024
#: a generic bound for counts of hardware things (PE units, cycles per op, latencies, ports)
MAX_HW_COUNT = 2 ** 24
#: memory capacity in bytes (1 EiB)
MAX_CAPACITY_BYTES = 2 ** 60
#: clock range in MHz (1 Hz to 1 THz)
MIN_CLOCK_MHZ, MAX_CLOCK_MHZ = 1e-6, 1e6
#: a workload name is one safe folder name of at most this many characters
MAX_NAME = 100


def human_bytes(n: float) -> str:
    """``n`` bytes as B / KB / MB / GB / TB / PB / EB (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024:
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EB"


def step_bytes(T: int, layers: int, rules: int) -> int:
    """Estimated bytes of the per-step count arrays of one run."""
    return T * layers * rules * BYTES_PER_STEP
