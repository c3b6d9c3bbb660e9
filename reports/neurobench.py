"""NeuroBench's metrics of a run's forward pass (``neurobench.csv``, written by
:mod:`simulator.neurobench`) for people: the line ``tess-sim run`` prints and the report's table."""

from __future__ import annotations

from tess_sim.reports.format import NA, missing, number


def _value(name: str, value) -> str:
    if missing(value):
        return NA
    if name == "ActivationSparsity":
        return f"{float(value):.4f}"
    return number(value)


def neurobench_text(metrics) -> str:
    """One line: every metric by its NeuroBench name (``metrics``: :class:`~simulator.neurobench.Metric`)."""
    return ("NeuroBench (forward pass, per sample): "
            + ", ".join(f"{m.name} {_value(m.name, m.value)}" + (" B" if m.unit == "bytes" else "")
                         for m in metrics))


def neurobench_display(table):
    """``neurobench.csv`` (every rule has the same forward pass) as one table of strings:
    metric, value, unit, definition."""
    first = table[table["rule"] == table["rule"].iloc[0]]
    out = first[["metric", "value", "unit", "definition"]].copy()
    out["value"] = [_value(m, v) for m, v in zip(first["metric"], first["value"])]
    return out.reset_index(drop=True)
