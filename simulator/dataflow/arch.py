"""The PE array and its memories as the mapper sees them: port bandwidths by direction, the
register file per PE, the buffer budgets for tiles of spilled operands, the zero policy and an
energy table (pJ per element access and per op)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tess_sim.simulator.workload import Memory

MEMORY_KINDS = ("sram", "dram", "rf")
ZERO = ("none", "gate", "skip")


@dataclass(frozen=True)
class Port:
    """One memory's bandwidth in bits per cycle by direction: ``read_bits`` only readable
    (read_ports * word_bits), ``write_bits`` only writable, ``rw_bits`` usable either way (a DRAM:
    its bandwidth * 8 here)."""
    name: str
    kind: str
    read_bits: float = 0.0
    write_bits: float = 0.0
    rw_bits: float = 0.0

    def __post_init__(self):
        if self.kind not in MEMORY_KINDS:
            raise ValueError(f"port {self.name}: kind {self.kind!r} not in {MEMORY_KINDS}")
        if min(self.read_bits, self.write_bits, self.rw_bits) < 0:
            raise ValueError(f"port {self.name}: negative bandwidth")

    def cycles(self, r_bits, w_bits):
        """Cycles to move ``r_bits`` read and ``w_bits`` written (scalars or numpy arrays):
        ``max(r / (R + RW), w / (W + RW), (r + w) / (R + W + RW))`` with 0/0 = 0 and traffic in a
        direction without any port = inf. With only RW ports this is ``(r + w) / RW``."""
        R, W, RW = self.read_bits, self.write_bits, self.rw_bits
        return _max3(_div(r_bits, R + RW), _div(w_bits, W + RW), _div(_add(r_bits, w_bits), R + W + RW))


def port_of(m: Memory) -> Port:
    """A memory's ports as bits per cycle by direction: ``read_ports``, ``write_ports`` and
    ``rw_ports`` × ``word_bits``; a DRAM with a ``bandwidth_bytes_per_cycle`` moves that many
    bytes a cycle either way."""
    if m.kind == "dram" and m.bandwidth_bytes_per_cycle:
        return Port(m.name, m.kind, rw_bits=m.bandwidth_bytes_per_cycle * 8)
    return Port(m.name, m.kind, read_bits=m.read_ports * m.word_bits, write_bits=m.write_ports * m.word_bits,
                rw_bits=m.rw_ports * m.word_bits)


def _add(a, b):
    return a + b


def _div(x, bw):
    """x / bw with 0/0 = 0 and x/0 = inf (x >= 0), for scalars and arrays."""
    if bw > 0:
        return x / bw
    if isinstance(x, np.ndarray):
        return np.where(x > 0, np.inf, 0.0)
    return math.inf if x > 0 else 0.0


def _max3(a, b, c):
    if any(isinstance(v, np.ndarray) for v in (a, b, c)):
        return np.maximum(np.maximum(a, b), c)
    return max(a, b, c)


@dataclass(frozen=True)
class Arch:
    """What the mapper knows of the hardware.

    ``array``: PE rows x cols. ``spatial``: ``"auto"`` or, per array axis, ``((dim, factor), ...)``
    (a dim's factor is capped at its size). ``rf_bits``: register file per PE. ``ports``: every
    memory the nests name, plus the DRAM ``dram`` that backs spilled operands. ``budget``: SRAM name
    -> bytes available for the buffer tiles of its spilled operands. ``zero``: ``none`` | ``gate``
    (ops on zero operands cost no energy) | ``skip`` (nor cycles). ``energy``: pJ per element
    access ``((memory, action, bits), pJ)`` with memory an SRAM/DRAM name or ``"rf"`` and action
    ``read``/``write``, and per op ``(("pe", kind, bits), pJ)``."""
    array: tuple[int, int]
    spatial: object
    rf_bits: int
    ports: tuple[Port, ...]
    dram: str
    budget: tuple[tuple[str, float], ...] = ()
    zero: str = "none"
    energy: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "array", tuple(int(a) for a in self.array))
        if len(self.array) != 2 or min(self.array) < 1:
            raise ValueError("array is (rows, cols), each >= 1")
        if self.spatial != "auto":
            sp = tuple(tuple((str(d), int(f)) for d, f in axis) for axis in self.spatial)
            if len(sp) != 2:
                raise ValueError("a fixed spatial gives one tuple of (dim, factor) per array axis")
            for axis, size in zip(sp, self.array):
                if math.prod(f for _, f in axis) > size:
                    raise ValueError(f"spatial {axis} exceeds its array axis of {size}")
            object.__setattr__(self, "spatial", sp)
        if self.zero not in ZERO:
            raise ValueError(f"zero {self.zero!r} not in {ZERO}")
        names = [p.name for p in self.ports]
        if len(set(names)) != len(names):
            raise ValueError(f"port names must be unique: {names}")
        if self.dram not in names or self.port(self.dram).kind != "dram":
            raise ValueError(f"dram {self.dram!r} must be a port of kind 'dram'")
        object.__setattr__(self, "budget", tuple((str(k), float(v)) for k, v in dict(self.budget).items()))
        object.__setattr__(self, "energy", tuple(self.energy))

    @property
    def units(self) -> int:
        """PEs in the array."""
        return self.array[0] * self.array[1]

    def port(self, name: str) -> Port:
        for p in self.ports:
            if p.name == name:
                return p
        raise KeyError(f"no port named {name!r} (ports: {[p.name for p in self.ports]})")

    def budget_bytes(self, memory: str) -> float:
        """Bytes of ``memory`` for tiles of spilled operands (inf when the Arch gives no budget)."""
        return dict(self.budget).get(memory, math.inf)

    def price(self, key) -> float:
        """pJ of one element access ``(memory, action, bits)`` or one op ``("pe", kind, bits)``;
        a missing key is an error (the caller builds the table from a cost model)."""
        table = self._table()
        if key not in table:
            raise KeyError(f"energy table has no entry {key!r}")
        return table[key]

    def _table(self) -> dict:
        t = self.__dict__.get("_energy_table")
        if t is None:
            t = {tuple(k): float(v) for k, v in self.energy}
            object.__setattr__(self, "_energy_table", t)
        return t
