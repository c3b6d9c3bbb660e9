"""The Python API every command wraps: load a workload, run it, summarise, sweep T.

>>> from tess_sim.api import load, run
>>> res = run(load("dvs"))
>>> res.summary[["paper_mac_M", "paper_memory_MB"]]
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tess_sim.cost_models.price import energy_table
from tess_sim.cost_models.report import load_models
from tess_sim.simulator.activity import ActivityProfile, build_activity
from tess_sim.simulator.engines.analytical import ESTIMATE, estimate_seconds, run_analytical, run_placed
from tess_sim.simulator.engines.mapped import Mapper
from tess_sim.simulator.engines.simpy.simulate import SIMULATED, simulate
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.ledger import held, ops
from tess_sim.simulator.mapping import core_of_layers
from tess_sim.simulator.measured.bridge import measured_profile, resolve
from tess_sim.simulator.network import Net, build_network
from tess_sim.simulator.rules import build_rules
from tess_sim.simulator.summary import summarize
from tess_sim.simulator.timing import headline
from tess_sim.simulator.workload import MeasuredActivity, Workload, load_workload, workload_from_dict
from tess_sim.simulator.vocab import LEARNING_PHASES, MB
from tess_sim.version import __version__

ENGINES = ("analytical", "simpy")


@dataclass
class Results:
    """What a run produced: the ledger (:mod:`tess_sim.simulator.ledger`), the per-rule summary
    (:mod:`tess_sim.simulator.summary`), the placement and the engine's time per sample."""

    workload: Workload
    net: Net
    activity: ActivityProfile
    engine: str
    ledger: pd.DataFrame
    summary: pd.DataFrame
    timing: pd.DataFrame | None = None  # SimPy engine: TIMING_COLUMNS (simulator.engines.simpy.engine)
    placement: pd.DataFrame | None = None  # PLACEMENT_COLUMNS (simulator.placement)
    #: time per sample per rule, from the engine: what cost models price leakage over
    seconds: dict[str, float] | None = None
    #: what ``seconds`` is: ``simulated`` (SimPy engine, the summary's ``latency_ms``) or the
    #: analytical engine's compute-bound ``estimate: ops / (pe.units × cores) / clock``
    seconds_basis: str | None = None
    #: mapped dataflow: one row per mapped contraction (MAPPING_COLUMNS, simulator.engines.mapped)
    mappings: pd.DataFrame | None = None
    #: mapped dataflow: what the mapper did (``Mapper.stats``: contractions, mappings evaluated, seconds)
    mapper: str | None = None

    def to_dict(self) -> dict:
        """The resolved workload, tool version, engine and activity (``results.json``)."""
        return {"tool": "tess-sim", "version": __version__, "engine": self.engine,
                "workload": self.workload.model_dump(mode="json"),
                "source": self.workload.source,
                "activity": {"source": self.activity.source, "description": self.activity.description,
                             "rates": self.activity.rates(self.net)},
                "summary": json.loads(self.summary.to_json(orient="index"))}


def load(path, hardware=None, overrides: dict | None = None) -> Workload:
    """Read a workload file (or a shipped workload by name, ``"dvs"``), validate it against the
    schema and :func:`check` it; raises UserError (file, field, reason) on any mistake.
    ``hardware``: a hardware YAML file replacing the workload's; ``overrides``: dotted keys
    (``{"T": 64, "hardware.cores": 4}``) as ``--set`` takes them."""
    wl = load_workload(path, hardware, overrides)
    check(wl, wl.source or str(path))
    return wl


def from_dict(data: dict, where: str = "<workload>", source: str | None = None) -> Workload:
    """:func:`load` for a workload mapping already in memory (sweep points)."""
    wl = workload_from_dict(data, where, source)
    check(wl, where)
    return wl


def activity_of(wl: Workload, net: Net | None = None, where: str | None = None) -> ActivityProfile:
    """The activity profile the workload's ``activity`` section asks for; ``measured`` runs the
    functional engine on the workload's data (:mod:`tess_sim.simulator.measured.bridge`).
    ``net``: the workload's network (built here when not given)."""
    where = where or wl.source or "<workload>"
    net = net if net is not None else build_network(wl, where)
    if isinstance(wl.activity, MeasuredActivity):
        return measured_profile(wl, net, wl.activity)
    return build_activity(net, wl.activity, where)


def check(wl: Workload, where: str = "<workload>") -> Net:
    """Every check a workload needs beyond its schema (network shapes and sizes, rule parameters
    against the network, activity layer names and files, the core mapping); returns the network."""
    net = build_network(wl, where)
    build_rules(wl, net, where)
    if isinstance(wl.activity, MeasuredActivity):  # checked here, measured when run
        for key in ("weights", "data"):
            rel = getattr(wl.activity, key)
            if rel and not resolve(wl, rel).exists():
                raise UserError(where, f"activity.{key}", f"file '{rel}' not found (looked at {resolve(wl, rel)})")
        if wl.activity.data is None and wl.data is None:
            raise UserError(where, "activity", "measured activity needs a 'data' section or activity.data (a D.npz)")
    else:
        build_activity(net, wl.activity, where)
    core_of_layers(net, wl.hardware, where)
    return net


def run(wl: Workload, engine: str = "analytical", granularity: str | None = None,
        activity: ActivityProfile | None = None) -> Results:
    """Run a workload on an engine; returns the ledger (with its ``memory`` column: both engines
    place the buffers the same way, :func:`tess_sim.simulator.placement.place`), the placement and
    the per-rule summary.

    ``engine="simpy"`` adds the timing table (``Results.timing``) and the timing headline
    columns of the summary, and prices leakage over the simulated time; the analytical engine
    gives its compute-bound estimate instead. ``granularity`` overrides ``simulation.granularity``;
    ``activity`` is the workload's activity when the caller has it already (:func:`activity_of`).
    """
    where = wl.source or "<workload>"
    if engine not in ENGINES:
        raise UserError("--engine", "", f"unknown engine '{engine}' (available: {', '.join(ENGINES)})")
    net = build_network(wl, where)
    rules = build_rules(wl, net, where)
    act = activity or activity_of(wl, net, where)
    if engine == "simpy" and granularity is not None:  # recorded in the workload dump of results.json
        source = wl.source
        wl = wl.model_copy(update={"simulation": wl.simulation.model_copy(update={"granularity": granularity})})
        wl._source = source
    mapper = mapper_of(wl)

    def stats() -> str | None:
        return mapper.stats() if mapper else None

    if engine == "simpy":
        sim = simulate(wl, net, rules, act, granularity=granularity, mapper=mapper)
        summary = summarize(sim.ledger, rules).join(headline(sim.timing, sim.placement, wl.hardware, net.T))
        seconds = {rule: float(ms) / 1e3 for rule, ms in summary["latency_ms"].items()}
        return Results(wl, net, act, engine, sim.ledger, summary, sim.timing, sim.placement, seconds, SIMULATED,
                       sim.mappings, stats())
    ledger, placement, mappings, gated = run_placed(rules, act, wl.hardware, wl.input.batch, where, mapper)
    return Results(wl, net, act, engine, ledger, summarize(ledger, rules), placement=placement,
                   seconds=estimate_seconds(ledger, wl.hardware, gated), seconds_basis=ESTIMATE, mappings=mappings,
                   mapper=stats())


def mapper_of(wl: Workload) -> Mapper | None:
    """The loop-nest mapper of a ``mapped`` core: its objective (``simulation.objective``) priced
    by the workload's first cost model (None on an ``event_driven`` core)."""
    hw = wl.hardware
    if hw.dataflow != "mapped":
        return None
    model = load_models(wl.cost_models[:1], wl.source)[0]
    return Mapper(hw, energy_table(model, hw), wl.simulation.objective)


def powers_of_two(lo: int, hi: int) -> list[int]:
    """[lo, 2·lo, …] up to hi, for lo a power of two."""
    out, t = [], lo
    while t <= hi:
        out.append(t)
        t *= 2
    return out


def complexity(wl: Workload, Ts: list[int] | None = None,
               activity: ActivityProfile | None = None) -> pd.DataFrame:
    """Cost versus T for every rule, tidy: columns T, rule, convention, metric, part, value.

    metrics: ``memory_MB`` (part ``total`` and, in the full convention, each buffer kind) and
    ``learning_ops`` (paper: the #MAC; full: every op of the trace, lsg, bwd, wgrad and update
    phases). The workload's activity (or ``activity``, e.g. a run's measured profile) is
    carried to every T at its mean per-step counts. Each T is the analytical engine's ledger
    before placement: the curves are counts (elements held, ops), which no placement changes, so
    a T whose buffers would not fit the chip still has its point (``run`` at that T places, and
    refuses it on a chip without DRAM).
    """
    where = wl.source or "<workload>"
    base = build_network(wl, where)
    activity = activity or activity_of(wl, base, where)
    Ts = Ts or powers_of_two(*wl.report.complexity_T)
    ledgers = []
    for T in Ts:
        net = dataclasses.replace(base, T=T)
        ledger = run_analytical(build_rules(wl, net, where), activity.at_T(T), wl.hardware.precision, wl.input.batch)
        ledgers.append(ledger.assign(T=T))
    led = pd.concat(ledgers, ignore_index=True)
    out = []
    h = held(led).assign(value=lambda d: d["count"] * d["bits"] / 8 / MB)
    tot = h.groupby(["T", "rule", "convention"], sort=False)["value"].sum().reset_index()
    out.append(tot.assign(metric="memory_MB", part="total"))
    hf = h[h["convention"] == "full"]
    parts = hf.groupby(["T", "rule", "convention", "unit"], sort=False)["value"].sum().reset_index()
    out.append(parts.rename(columns={"unit": "part"}).assign(metric="memory_MB"))
    o = ops(led)
    o = o[(o["convention"] == "paper") | o["phase"].isin(LEARNING_PHASES)]
    learn = o.groupby(["T", "rule", "convention"], sort=False)["count"].sum().reset_index()
    out.append(learn.rename(columns={"count": "value"}).assign(metric="learning_ops", part="total"))
    cols = ["T", "rule", "convention", "metric", "part", "value"]
    return pd.concat([d[cols] for d in out], ignore_index=True).sort_values(["T", "rule"], kind="stable",
                                                                            ignore_index=True)


def fit_slopes(cx: pd.DataFrame, T_min: int = 16, T_max: int = 1024) -> pd.DataFrame:
    """Log-log slope of every curve of :func:`complexity` over T_min ≤ T ≤ T_max."""
    sel = cx[(cx["T"] >= T_min) & (cx["T"] <= T_max) & (cx["value"] > 0)]
    out = []
    for key, g in sel.groupby(["rule", "convention", "metric", "part"], sort=False):
        if len(g) >= 2:
            slope = np.polyfit(np.log(g["T"].to_numpy(float)), np.log(g["value"].to_numpy(float)), 1)[0]
            out.append(key + (float(slope),))
    return pd.DataFrame(out, columns=["rule", "convention", "metric", "part", "slope"])
