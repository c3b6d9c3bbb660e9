"""The SimPy engine: an event-driven, cycle-approximate neuromorphic core (docs/simpy.md).

It reads the same rule programs as the analytical engine (``Rule.works(act)``) and never
re-derives a count: each Work's per-step counts are cut into pieces (:mod:`.pieces`), each piece
is one task whose duration comes from the hardware (:mod:`.costs`).

Processes, as the hardware reads:

- one **controller per core** walks the program of the layers mapped to it: the ``forward`` Works
  step by step, then (BPTT) the ``backward`` Works steps in reverse, then the ``batch`` optimizer
  step (its time amortised over the mini-batch: 1/batch of it per sample). A controller issues one
  task at a time, so the PE array and the SRAM ports of a core need no arbitration;
- **spike packets**: the neuron phase of a layer emits its output spikes piece by piece; when the
  next layer sits on another core they travel as address events through the **router** (a shared
  ``simpy.Resource``: ``packets_per_cycle``, then ``hop_latency`` per hop, cores on a line) into a
  ``simpy.Container`` at the consumer, whose event-driven synaptic pieces wait for them — so cores
  pipeline across layers and steps;
- **errors** of a backward phase (S-TLLR's per-step learning signal, BPTT's pass through time)
  travel the same way to the core of the layer below;
- the **DRAM** is one shared ``simpy.Resource``: with several cores, a task holds it for its DRAM
  cycles and waits when another core holds it (contention comes out of the simulation).

Everything a task can wait for is recorded as a stall by cause.

Nothing per step or per piece is kept (memory flat in T): each Work's pieces are built and priced
a chunk of steps at a time (:mod:`.plan`), their statistics summed as they are built, and the
spike inboxes and error events of a step are dropped once consumed. A controller alone (every
layer on one core) has nothing to wait for, so each (Work, step) is one SimPy event at the time
its pieces, run back to back, end; with several cores every piece is a task as above.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from heapq import heappush

import numpy as np
import pandas as pd
import simpy

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.mapping import array_utilisation
from tess_sim.simulator.network import Net
from tess_sim.simulator.placement import slices
from tess_sim.simulator.rules import Rule
from tess_sim.simulator.rules.program import Work
from tess_sim.simulator.vocab import ONCE
from tess_sim.simulator.workload import RF, Hardware, rf_memory
from tess_sim.simulator.engines.simpy.costs import MemInstance, instances, work_costs
from tess_sim.simulator.engines.simpy.plan import Chunk, Plan

#: event granularity refuses to plan more tasks than this (use ``tile``)
MAX_TASKS = 3_000_000


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it schedules."""

    def __init__(self):
        super().__init__()
        self.events = 0

    def schedule(self, event, priority=1, delay=0):
        self.events += 1
        super().schedule(event, priority, delay)

    def at(self, time: float) -> simpy.Event:
        """An event that fires at simulated time ``time`` exactly (a timeout of ``time - now``
        could round: ``now + (time - now)`` need not be ``time`` in floating point)."""
        if time < self._now:
            raise ValueError(f"time {time} is in the past (now {self._now})")
        ev = simpy.Event(self)
        ev._ok, ev._value = True, None
        self.events += 1
        heappush(self._queue, (time, simpy.events.NORMAL, next(self._eid), ev))
        return ev


@dataclass
class SimRun:
    """What the engine produced for one rule: executed Works (counts as run), the timing table,
    the per-task records (when kept), and the figures of the sample."""

    rule: str
    works: list[Work]
    timing: pd.DataFrame
    tasks: pd.DataFrame | None
    cycles: float
    events: int


def _driver(work: Work, net: Net, hw: Hardware) -> tuple[np.ndarray, bool]:
    """The driver of a Work's pieces [T] and whether it is event-driven synaptic integration (on
    an ``event_driven`` core; a mapped array tiles every phase over neurons). Its length is the
    Work's number of steps (1 for ``batch``), also when the Work has no count at all (a silent
    layer: rules drop zero counts)."""
    block = net.block(work.layer)
    T = 1 if work.direction in ONCE else net.T
    if work.phase == "fwd" and not block.analog_input and hw.dataflow == "event_driven":
        for c in work.counts:
            if c.unit == "spikes" and c.action == "read":
                return c.per_step, True
        return np.zeros(T), True
    return np.full(T, float(block.N_pre)), False


class CoreSim:
    """One rule's program on the hardware: plans, processes and statistics."""

    def __init__(self, rule: Rule, works: list[Work], net: Net, hw: Hardware, placement: pd.DataFrame,
                 cores: dict[str, int], granularity: str, tile: int, batch: int, keep_tasks: bool = False,
                 where: str = "<workload>"):
        self.rule, self.net, self.hw, self.batch = rule, net, hw, batch
        self.insts: list[MemInstance] = instances(hw)
        self.shared = np.array([i.core is None for i in self.insts])
        self.cores = cores
        self.keep = keep_tasks
        pl = placement[placement["rule"] == rule.name].set_index("unit").to_dict("index")  # unit -> its row
        buffer_slices = slices(rule.state(), net.T)
        self.plans: list[Plan] = []
        self.stall_mem = np.zeros(len(self.insts))  # memory-bound stall cycles per memory instance
        n_tasks = 0
        for idx, w in enumerate(works):
            driver, event_driven = _driver(w, net, hw)
            size = {"phase": math.inf, "tile": float(tile)}.get(granularity, 1.0 if event_driven else float(tile))
            costs = work_costs(w, hw, self.insts, cores[w.layer], pl, event_driven, buffer_slices,
                               array_utilisation(hw, net.block(w.layer)), rule.schedule == "layer_major")
            scale = 1.0 / batch if w.direction == "batch" else 1.0
            plan = Plan(idx, w, cores[w.layer], driver, size, costs, scale, self.shared, self.stall_mem,
                        hw.cores > 1, keep_tasks)
            n_tasks += plan.tasks
            if granularity == "event" and n_tasks > MAX_TASKS:
                raise UserError(where, "simulation.granularity", f"event granularity needs more than "
                                f"{MAX_TASKS:,} tasks for rule {rule.name}; use 'tile' for a network this size")
            self.plans.append(plan)
        self._link()

    # ------------------------------------------------------------------ dependencies
    def _link(self):
        """Cross-core edges: spikes (neuron of layer l-1 -> fwd of layer l) and errors (bwd of
        layer l+1 -> bwd of layer l). Edges inside a core need nothing: program order holds them."""
        by = {(p.work.layer, p.work.phase): p for p in self.plans}
        names = [b.name for b in self.net.layers]
        for i, name in enumerate(names):
            fwd = by.get((name, "fwd"))
            if i > 0 and fwd is not None:
                prod = by.get((names[i - 1], "neuron"))
                if prod is not None and prod.core != fwd.core:
                    fwd.spike_from, prod.spike_to = prod, fwd
                    prod.want_spikes = True
            bwd = by.get((name, "bwd"))
            if bwd is not None and i + 1 < len(names):
                up = by.get((names[i + 1], "bwd"))
                if up is not None and up.core != bwd.core and up.work.direction == bwd.work.direction:
                    bwd.error_from = up
                    up.error_to.append(bwd)

    # ------------------------------------------------------------------ simulation
    def run(self, batch_steps: bool = True) -> SimRun:
        """Simulate the sample. ``batch_steps=False`` runs a lone controller piece by piece too
        (one SimPy event per piece, as several cores do): the same figures, more events."""
        env = self.env = CountingEnvironment()
        self.router = simpy.Resource(env, capacity=1)
        self.dram = simpy.Resource(env, capacity=1)
        self.inbox: dict[tuple[int, int], simpy.Container] = {}
        self.done: dict[tuple[int, int], simpy.Event] = {}
        self.stall = {"dependency": 0.0, "dram_contention": 0.0, "router_queue": 0.0}
        self.router_busy = 0.0
        self.router_hops = 0.0
        self.packets = {"spikes": 0.0, "errors": 0.0}
        self.records: list[tuple] = []
        self.multi = self.hw.cores > 1
        used = sorted(set(self.cores.values()))
        # one controller alone: nothing can wait, so each (Work, step) is one SimPy event
        controller = self._solo if len(used) == 1 and batch_steps else self._controller
        self.stall_mem[:] = 0.0
        for p in self.plans:  # program order: a Plan of one chunk adds its statistics in that order
            p.reset()
            p.first()
        procs = [env.process(controller(c)) for c in used]
        env.run()
        if not all(p.processed for p in procs):  # program order is topological: cannot happen
            raise RuntimeError(f"{self.rule.name}: a core controller deadlocked")
        for p in self.plans:
            p.release()
        works = [p.executed_work() for p in self.plans]
        tasks = None
        if self.keep:
            tasks = pd.DataFrame(self.records, columns=["layer", "phase", "step", "core", "start", "end",
                                                         "duration", "compute", "memory", "latency"])
        return SimRun(self.rule.name, works, self.timing(env.now), tasks, float(env.now), env.events)

    def _box(self, plan: Plan, t: int) -> simpy.Container:
        key = (plan.index, t)
        if key not in self.inbox:
            self.inbox[key] = simpy.Container(self.env, init=0)
        return self.inbox[key]

    def _event(self, plan: Plan, t: int) -> simpy.Event:
        key = (plan.index, t)
        if key not in self.done:
            self.done[key] = self.env.event()
        return self.done[key]

    def stages(self) -> dict[str, int]:
        """Pipeline stage d_L of each layer: the number of core changes along the layer chain
        before it (d_0 = 0; d_L = d_{L-1} + 1 when layer L sits on another core than L-1)."""
        out, d, prev = {}, 0, None
        for b in self.net.layers:
            c = self.cores[b.name]
            if prev is not None and c != prev:
                d += 1
            out[b.name], prev = d, c
        return out

    def _forward_order(self, plans: list[Plan]) -> Iterator[tuple[Plan, int]]:
        """(plan, step) tasks of a core's forward Works in the order it runs them, generated as
        they run (nothing per step is kept).

        Without cross-core errors in the forward direction (TESS, BPTT's forward pass): by (t + d_L,
        program order) — software pipelining, so a core holding an early and a late layer (any
        non-contiguous mapping) runs the early layer's step t + d ahead of the late layer's step
        t instead of waiting on it; every spike edge goes from a smaller to a larger key, so the
        cores cannot deadlock. For a contiguous mapping d_L is constant on a core and the order is
        (t, program order), as before. With per-step errors crossing cores (S-TLLR), whose edges
        run from a later to an earlier stage: (t, program order). Under ``schedule: layer_major``:
        by (layer, t, program order) — every spike edge still goes from a smaller key to a larger."""
        T = self.net.T
        if self.rule.schedule == "layer_major":  # a layer's T steps, then the next layer's
            pos = {b.name: i for i, b in enumerate(self.net.layers)}
            for p_layer in sorted({pos[p.work.layer] for p in plans}):
                mine = [p for p in plans if pos[p.work.layer] == p_layer]
                for t in range(T):
                    for p in mine:
                        yield p, t
            return
        errors = any(p.error_from is not None or p.error_to for p in self.plans if p.work.direction == "forward")
        d = {n: 0 for n in self.cores} if errors else self.stages()
        # at key k the tasks are (p, k - d_p), ordered by step then program order
        by_step = sorted(plans, key=lambda p: (-d[p.work.layer], p.index))
        lags = [d[p.work.layer] for p in by_step]
        for k in range(min(lags), T + max(lags)):
            for p, lag in zip(by_step, lags):
                if 0 <= k - lag < T:
                    yield p, k - lag

    def _program(self, core: int) -> Iterator[tuple[Plan, int]]:
        """Every (plan, step) task of ``core`` in program order: forward, backward, batch."""
        T = self.net.T
        order = (("forward", range(T)), ("backward", range(T - 1, -1, -1)), ("sample", range(1)), ("batch", range(1)))
        for direction, steps in order:
            plans = [p for p in self.plans if p.core == core and p.work.direction == direction]
            if not plans:
                continue
            if direction == "forward":
                yield from self._forward_order(plans)
                continue
            for t in steps:
                for p in plans:
                    yield p, t

    def _controller(self, core: int):
        for p, t in self._program(core):
            yield from self._work(p, t)

    def _solo(self, core: int):
        """The only controller: its tasks run back to back, so a (Work, step) — all its pieces —
        is one SimPy event at the time the piece-by-piece simulation reaches: the pieces' cycles
        (a DRAM piece: its DRAM cycles, then the rest) added one by one in order
        (``np.add.accumulate``, the same float additions as one timeout per piece)."""
        env = self.env
        for p, t in self._program(core):
            ch = p.chunk(t)
            s, n = ch.rows(t)
            if not n:
                continue
            incs, last = ch.increments(self.multi)
            if last is None:
                a, b = s, s + n
            else:
                a, b = (int(last[s - 1]) + 1 if s else 0), int(last[s + n - 1]) + 1
            acc = np.add.accumulate(np.concatenate(([env.now], incs[a:b])))
            if self.keep:
                ends = acc[1:] if last is None else acc[last[s:s + n] - a + 1]
                starts = np.concatenate(([acc[0]], ends[:-1]))
                self._record(p, t, ch, s, n, starts, ends)
            yield env.at(acc[-1])

    def _record(self, p: Plan, t: int, ch: Chunk, s: int, n: int, starts, ends) -> None:
        for j in range(n):
            i = s + j
            self.records.append((p.work.layer, p.work.phase, t, p.core, starts[j], ends[j], ch.dur[i],
                                 ch.compute[i], ch.mem_max[i], ch.latency[i]))

    def _work(self, p: Plan, t: int):
        """One (Work, step) piece by piece, with every wait a piece can have on another core."""
        env = self.env
        ch = p.chunk(t)
        s, n = ch.rows(t)
        if p.error_from is not None:
            ev = self._event(p.error_from, t)
            if not ev.triggered:
                t0 = env.now
                yield ev
                self.stall["dependency"] += env.now - t0
            del self.done[(p.error_from.index, t)]  # its only waiter has it
        box, got, n_prod = None, 0, 0
        if p.spike_from is not None:
            n_prod = int(p.spike_from.n[t])
            box = self._box(p, t) if n else None
        for j in range(n):
            i = s + j
            if box is not None:
                need = -(-(j + 1) * n_prod // n)
                if need > got:
                    t0 = env.now
                    yield box.get(need - got)
                    self.stall["dependency"] += env.now - t0
                    got = need
            t0 = env.now
            d, dram = ch.dur[i], (ch.dram[i] if ch.dram is not None else 0.0)
            if self.multi and dram > 0:
                req = self.dram.request()
                yield req
                self.stall["dram_contention"] += env.now - t0
                yield env.timeout(dram)
                self.dram.release(req)
                if d > dram:
                    yield env.timeout(d - dram)
            else:
                yield env.timeout(d)
            if self.keep:
                self._record(p, t, ch, i, 1, [t0], [env.now])
            if p.spike_to is not None:
                env.process(self._send(p, p.spike_to, t, float(ch.spikes[i]), "spikes"))
        if box is not None:
            del self.inbox[(p.index, t)]  # every packet of step t has arrived
        for dst in p.error_to:
            if n:
                elements = float(self.net.block(p.work.layer).N_in)
                bits = self.hw.precision.gradient
                packets = math.ceil(elements * bits / self.hw.router.packet_bits)
                env.process(self._send(p, dst, t, packets, "errors"))
            elif not self._event(p, t).triggered:
                self._event(p, t).succeed()

    def _send(self, src: Plan, dst: Plan, t: int, packets: float, kind: str):
        """Packets from ``src``'s core to ``dst``'s core through the router."""
        env, r = self.env, self.hw.router
        t0 = env.now
        with self.router.request() as req:
            yield req
            self.stall["router_queue"] += env.now - t0
            busy = packets / r.packets_per_cycle
            yield env.timeout(busy)
        hops = abs(dst.core - src.core)
        if r.hop_latency and hops:
            yield env.timeout(r.hop_latency * hops)
        self.router_busy += busy
        self.router_hops += r.hop_latency * hops
        self.packets[kind] += packets
        if kind == "spikes":
            if dst.n[t]:  # a step without pieces takes no packet out: nothing to wake
                yield self._box(dst, t).put(1)
        else:
            ev = self._event(src, t)
            if not ev.triggered:
                ev.succeed()

    # ------------------------------------------------------------------ statistics
    def timing(self, cycles: float) -> pd.DataFrame:
        """The timing table of the sample (tidy: rule, scope, name, metric, value).

        scopes: ``sample`` (cycles, latency_us, tasks, simpy_events, the perfect-overlap and the
        no-overlap bounds), ``phase`` / ``layer`` / ``layer_phase`` (``layer:phase``) busy cycles
        (Σ task durations; ``update`` amortised over the batch), ``core`` (PE busy cycles and
        utilisation), ``port`` (busy cycles and utilisation per memory instance), ``stall``
        (cycles by cause: ``memory:<name>`` where a task is memory-bound, ``latency``,
        ``dependency`` waiting for spikes / errors from another core, ``dram_contention``,
        ``router_queue`` (packet waiting time in the router, summed over packets; it overlaps
        compute)), ``router`` (spike and error packets, busy cycles, ``hop_cycles``: Σ over messages
        of hop_latency × |core_src − core_dst|, cores on a line, forward or backward)."""
        r, rows = self.rule.name, []
        mhz = self.hw.clock_mhz

        def add(scope, name, metric, value):
            rows.append((r, scope, name, metric, float(value)))

        compute = {c: 0.0 for c in sorted(set(self.cores.values()))}
        useful = dict(compute)
        mem_busy = np.zeros(len(self.insts))
        stall_mem = self.stall_mem
        latency = serial = 0.0
        phase, layer, both = {}, {}, {}
        tasks = 0
        for p in self.plans:
            st = p.stats
            tasks += p.tasks
            compute[p.core] += st.compute
            useful[p.core] += st.useful
            mem_busy += st.mem
            latency += st.latency
            serial += st.serial
            key = p.work.phase
            phase[key] = phase.get(key, 0.0) + st.duration
            layer[p.work.layer] = layer.get(p.work.layer, 0.0) + st.duration
            lp = f"{p.work.layer}:{key}"
            both[lp] = both.get(lp, 0.0) + st.duration
        serial += self.router_busy + self.router_hops
        overlap = max(max(compute.values()), mem_busy.max() if len(mem_busy) else 0.0, self.router_busy)
        add("sample", "-", "cycles", cycles)
        add("sample", "-", "latency_us", cycles / mhz)
        add("sample", "-", "tasks", tasks)
        add("sample", "-", "simpy_events", self.env.events)
        add("sample", "-", "bound_overlap_cycles", overlap)
        add("sample", "-", "bound_serial_cycles", serial)
        for k, v in phase.items():
            add("phase", k, "cycles", v)
        for k, v in layer.items():
            add("layer", k, "cycles", v)
            add("layer", k, "core", self.cores[k])
        for k, v in both.items():
            add("layer_phase", k, "cycles", v)
        for c, v in compute.items():
            add("core", f"core{c}", "pe_busy_cycles", v)
            add("core", f"core{c}", "pe_useful_cycles", useful[c])
            add("core", f"core{c}", "pe_utilisation", useful[c] / cycles if cycles else 0.0)
        for i, inst in enumerate(self.insts):
            add("port", inst.label, "busy_cycles", mem_busy[i])
            add("port", inst.label, "utilisation", mem_busy[i] / cycles if cycles else 0.0)
        by_mem: dict[str, float] = {}
        for i, inst in enumerate(self.insts):
            by_mem[inst.memory.name] = by_mem.get(inst.memory.name, 0.0) + stall_mem[i]
        for name, v in by_mem.items():
            add("stall", f"memory:{name}", "cycles", v)
        add("stall", "latency", "cycles", latency)
        for k, v in self.stall.items():
            add("stall", k, "cycles", v)
        add("router", "-", "spike_packets", self.packets["spikes"])
        add("router", "-", "error_packets", self.packets["errors"])
        add("router", "-", "busy_cycles", self.router_busy)
        add("router", "-", "hop_cycles", self.router_hops)
        return pd.DataFrame(rows, columns=TIMING_COLUMNS)


TIMING_COLUMNS = ["rule", "scope", "name", "metric", "value"]


def memory_table(ledger: pd.DataFrame, placement: pd.DataFrame, hw: Hardware) -> pd.DataFrame:
    """Reads / writes per memory in words and bits, DRAM traffic, peak occupancy (per sample),
    from the ``full`` ledger with its ``memory`` column and the placement."""
    rows = []
    mems = {m.name: m for m in hw.memories}
    if hw.dataflow == "mapped":
        mems[RF] = rf_memory(hw)
    acc = ledger[ledger["action"].isin(["read", "write"]) & (ledger["memory"] != "")]
    bits = (acc["count"] * acc["bits"]).groupby([acc["rule"], acc["memory"], acc["action"]]).sum()
    for (rule, mem, action), b in bits.items():
        rows.append((rule, "memory", mem, f"{action}_bits", b))
        rows.append((rule, "memory", mem, f"{action}_words", b / mems[mem].word_bits))
        if mems[mem].kind == "dram":
            rows.append((rule, "memory", mem, f"dram_{action}_bytes", b / 8))
    for rule, g in placement.groupby("rule", sort=False):
        occ: dict[str, float] = {}
        for row in g.itertuples():
            occ[row.memory] = occ.get(row.memory, 0.0) + row.on_chip_bytes
            if row.spilled_bytes:
                occ[row.spill_memory] = occ.get(row.spill_memory, 0.0) + row.spilled_bytes
        for mem, v in occ.items():
            rows.append((rule, "memory", mem, "peak_bytes", v))
    return pd.DataFrame(rows, columns=TIMING_COLUMNS)
