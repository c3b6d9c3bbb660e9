"""Cycles of a piece of work on one core: compute on the PE array, traffic on each memory.

Per action, in cycles (fractional: the model is cycle-approximate, ideal packing):

- PE op of kind k of layer L: ``cycles_per_<k>`` / (``units`` · u_L) (``cycles_per_mac``,
  ``cycles_per_ac``, else ``cycles_per_op[k]``, default 1), with the array utilisation u_L = 1 for
  ``pe.parallelism: ideal`` (ideal packing) and u_L = min(1, lanes_L / units) for
  ``output_channels`` (:func:`simulator.mapping.array_utilisation`) (one output channel / feature per PE: lanes_L = the layer's output channels,
  conv ``pre_shape[0]``, or output features, linear and readout); plus ``event_push_cycles`` per
  input spike event of an event-driven synaptic phase (the push is serial, not spread over the
  units, and not scaled by u_L).
- Memory access of one element of b bits: SRAM b / (word_bits · ports) cycles (elements packed
  into words; ``ports`` read/write ports); with read-only and write-only ports, a piece moving r
  bits read and w written takes max(r / (R + RW), w / (W + RW), (r + w) / (R + W + RW)) cycles
  (R, W, RW: bits per cycle of each kind of port); DRAM b / 8 / bandwidth_bytes_per_cycle (or
  b / (word_bits · ports) without a bandwidth). Accesses a mapper placed (mapped dataflow) go
  to their memory whole; the PEs' register files take no port cycle. A buffer with a fraction f of its bytes on chip sends f of its accesses to its home
  memory and 1 − f to the DRAM (:mod:`simulator.placement`).

A task lasts max(compute, cycles of each memory instance) plus, for the first piece of a phase
at a step, the largest read/write latency among the memories it touches (later pieces stream).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tess_sim.simulator.dataflow.arch import port_of
from tess_sim.simulator.placement import per_pass, slice_of
from tess_sim.simulator.rules.program import Work
from tess_sim.simulator.workload import RF, Hardware, Memory


@dataclass(frozen=True)
class MemInstance:
    """One memory instance: an SRAM of one core, or a DRAM shared by every core."""

    memory: Memory
    core: int | None  # None: shared (DRAM)
    indexed: bool = False  # several cores: label SRAM copies name[core]

    @property
    def label(self) -> str:
        return f"{self.memory.name}[{self.core}]" if self.indexed else self.memory.name


def instances(hw: Hardware) -> list[MemInstance]:
    """SRAMs once per core (each core has its own), DRAMs once (shared)."""
    out = []
    for m in hw.memories:
        if m.kind == "dram":
            out.append(MemInstance(m, None))
        else:
            out += [MemInstance(m, c, hw.cores > 1) for c in range(hw.cores)]
    return out


def cycles_per_element(m: Memory, bits: int) -> float:
    """Cycles one element of ``bits`` costs on memory ``m`` (see the module docstring)."""
    if m.kind == "dram" and m.bandwidth_bytes_per_cycle:
        return bits / 8.0 / m.bandwidth_bytes_per_cycle
    return bits / float(m.word_bits * m.rw_ports)


def op_cycles(hw: Hardware, kind: str) -> float:
    pe = hw.pe
    if kind == "mac":
        return float(pe.cycles_per_mac)
    if kind == "ac":
        return float(pe.cycles_per_ac)
    return float(pe.cycles_per_op.get(kind, 1))


@dataclass(frozen=True)
class WorkCosts:
    """Per-element costs of a Work's counts on one core: ``pe`` [K] compute cycles per action,
    ``mem`` [K, instances] memory cycles per action, ``push`` [K] push cycles per action (1 on the
    spike-event column of an event-driven phase), ``latency`` cycles once per step, ``util`` the
    array utilisation u of the layer (``pe`` already divided by it: ``pe · util`` are the cycles of
    a work-conserving array).

    A memory with read-only / write-only ports (:attr:`Memory.directional`) is not linear in the
    counts: its column of ``mem`` is zero and ``ports`` lists (instance, read bits [K], write bits
    [K], port) so that a piece's cycles there are ``port.cycles(reads, writes)``. A mapped Work
    (:mod:`simulator.engines.mapped`) has two more rows than counts (its ``cycles`` and
    ``ideal_cycles``): ``pe`` is 1 and 0 on them, ``useful`` 0 and 1. Before those, one row per
    Count with gated ops (:attr:`~simulator.rules.program.Work.gated`, ``pe.zero: gate``): the PE
    cycles of its ops, no memory traffic, no useful work."""

    pe: np.ndarray
    mem: np.ndarray
    push: np.ndarray
    latency: float
    util: float = 1.0
    ports: tuple = ()
    useful: np.ndarray | None = None


def dram_share(c, layer: str, row, hw: Hardware, buffer_slices: dict | None, once: bool = False) -> float:
    """Fraction of a Count's accesses served by the DRAM (see :mod:`simulator.placement`):
    streamed, spilled · Σ_t min(n_t, E) / Σ_t n_t (``once``, a slice touched once per pass:
    spilled · min(Σ_t n_t, E) / Σ_t n_t); proportional (or no slices), spilled."""
    spilled = float(row["spilled_bytes"] / row["bytes"]) if row["bytes"] > 0 else 0.0
    total = float(np.sum(c.per_step))
    if spilled == 0.0 or buffer_slices is None or hw.spill != "streamed" or total == 0.0:
        return spilled
    E = slice_of(buffer_slices, layer, c.unit, c.prec)
    if once:
        return spilled * min(total, E) / total
    return spilled * float(np.minimum(c.per_step, E).sum()) / total


def work_costs(work: Work, hw: Hardware, insts: list[MemInstance], core: int,
               placement: dict[str, dict], event_driven: bool,
               buffer_slices: dict | None = None, util: float = 1.0, layer_major: bool = False) -> WorkCosts:
    """The cost coefficients of ``work`` on ``core`` under the rule's ``placement`` rows
    (unit -> its row of the placement table, as a dict) and the rule's buffer slices (:func:`simulator.placement.slices`); ``util``
    is the array utilisation of the Work's layer (:func:`simulator.mapping.array_utilisation`), applied to every PE
    op of the Work."""
    mapped = work.cycles is not None
    gated = work.gated
    K, M = len(work.counts) + len(gated) + (2 if mapped else 0), len(insts)
    pe, mem, push = np.zeros(K), np.zeros((K, M)), np.zeros(K)
    index = {}
    for i, inst in enumerate(insts):
        if inst.core is None or inst.core == core:
            index[inst.memory.name] = i
    directional = {i: (np.zeros(K), np.zeros(K)) for i in index.values() if insts[i].memory.directional}
    latency = 0.0
    for k, c in enumerate(work.counts):
        if c.unit == "pe":
            pe[k] = op_cycles(hw, c.action) / (hw.pe.units * util) if c.cycles is None else c.cycles
            continue
        if event_driven and c.unit == "spikes" and c.action == "read":
            push[k] = float(hw.pe.event_push_cycles)
        bits = hw.precision.bits(c.prec)
        if c.memory:  # placed by the mapper: the register files cost no port cycle (they feed their PE)
            shares = () if c.memory == RF else ((c.memory, 1.0),)
        else:
            row = placement[c.unit]
            to_dram = dram_share(c, work.layer, row, hw, buffer_slices, per_pass(layer_major, work, c.unit))
            shares = ((row["memory"], 1.0 - to_dram), (row["spill_memory"], to_dram))
        for name, share in shares:
            if share <= 0 or not name:
                continue
            i = index[name]
            m = insts[i].memory
            if i in directional:
                directional[i][0 if c.action == "read" else 1][k] += share * bits
            else:
                mem[k, i] += share * cycles_per_element(m, bits)
            latency = max(latency, float(m.read_latency if c.action == "read" else m.write_latency))
    ports = tuple((i, r, w, port_of(insts[i].memory)) for i, (r, w) in directional.items() if r.any() or w.any())
    useful = None
    for j, c in enumerate(gated):  # a gated op takes its PE's cycle, does no work
        pe[len(work.counts) + j] = op_cycles(hw, c.action) / (hw.pe.units * util)
    if mapped:
        pe[-2] = 1.0
    if mapped or gated:
        useful = pe * util
        useful[len(work.counts):len(work.counts) + len(gated)] = 0.0
        if mapped:
            useful[-2:] = (0.0, 1.0)
    return WorkCosts(pe, mem, push, latency, util, ports, useful)
