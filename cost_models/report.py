"""Price a run's ledger with several cost models side by side (what ``tess-sim run`` prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tess_sim.cost_models.price import NOT_PRICED, Priced, access_ledger, breakdown, energy_summary, price
from tess_sim.cost_models.registry import load_cost_model


@dataclass
class CostReport:
    """Every model's pricing of one run: ``summary`` (one row per model and rule, see
    :func:`cost_models.price.energy_summary`), ``breakdown`` (tidy), ``models`` (describe() of each:
    name, parameters, sources) and the ``priced`` objects."""

    priced: list[Priced]
    summary: pd.DataFrame
    breakdown: pd.DataFrame
    models: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """For results.json: every model with its parameters, sources, leakage basis and area."""
        out = []
        for p in self.priced:
            out.append({**p.model, "leakage": p.leakage.to_dict(orient="records"), "area_mm2": p.area_mm2,
                        "summary": self.summary[self.summary["model"] == p.model["label"]].to_dict(orient="records")})
        return {"cost_models": out}


def time_per_sample(results) -> tuple[dict | None, str]:
    """The engine's time per sample per rule and its basis, ``({rule: seconds}, basis)``, or
    ``(None, NOT_PRICED)`` when the engine gave none (leakage is then not priced).

    The plug point for engines: a ``Results`` carrying ``seconds`` (``{rule: seconds per
    sample}``) and ``seconds_basis`` (``simulated`` for the SimPy engine, the analytical engine's
    ``estimate: …``) has its leakage priced over that time.
    """
    secs = getattr(results, "seconds", None)
    return (dict(secs), results.seconds_basis) if secs else (None, NOT_PRICED)


def load_models(specs: list, workload_source: str | None, option: str | None = None,
                from_file: bool | None = None) -> list:
    """Resolve every spec before any work: from the workload (relative table paths from its
    folder; errors name the file and ``cost_models[i]``) or, with ``option`` (e.g.
    ``--cost-model``), from the command line (paths from the current folder).

    ``from_file`` (default: no ``option``): the specs were read from the workload file, so
    ``module:Class`` specs need the opt-in (:mod:`cost_models.registry`)."""
    if option:
        return [load_cost_model(s, None, option, s.get("model", "") if isinstance(s, dict) else str(s),
                                from_file=bool(from_file)) for s in specs]
    base = Path(workload_source).parent if workload_source else None
    where = workload_source or "<workload>"
    from_file = True if from_file is None else from_file
    return [load_cost_model(s, base, where, f"cost_models[{i}]", from_file=from_file) for i, s in enumerate(specs)]


def cost_report(results, specs: list | None = None, models: list | None = None) -> CostReport:
    """Price ``results.ledger`` with each model (specs default to the workload's ``cost_models``)."""
    wl = results.workload
    if models is None:  # specs given in Python are the caller's choice; the workload's need the opt-in
        models = load_models(specs if specs is not None else wl.cost_models, wl.source, from_file=specs is None)
    secs, basis = time_per_sample(results)
    acc = access_ledger(results.ledger)  # ops and accesses, each with the memory serving it
    priced = [price(acc, wl.hardware, m, secs, basis) for m in models]
    names = [p.model["name"] for p in priced]
    for i, p in enumerate(priced):  # a model given twice (other parameters) gets a #n label
        p.model["area_mm2"] = p.area_mm2
        p.model["label"] = p.model["name"] if names.count(p.model["name"]) == 1 else f"{p.model['name']}#{i + 1}"
    summary = pd.concat([energy_summary(p, results.ledger) for p in priced], ignore_index=True)
    bd = pd.concat([breakdown(p) for p in priced], ignore_index=True)
    return CostReport(priced, summary, bd, [p.model for p in priced])
