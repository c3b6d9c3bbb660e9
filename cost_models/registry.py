"""The CostModel protocol and how a model is found by name.

A cost model (the Accelergy split: engines say *what happened*, a model says *what it costs*)
is any object with:

=================================  =================================================================
``name``                           shown in every result
``unit``                           ``pJ`` (energy models) or ``count`` (the counts model)
``can_price(component, action)``   component ``pe`` (action an op kind: mac, ac, add, mul, cmp,
                                   exp, div, sqrt) or a memory kind ``sram`` / ``dram`` (action
                                   read / write)
``op_energy(kind, bits)``          pJ per op at operand width ``bits`` (numpy array in, array out)
``access_energy(memory, action,    pJ per element access of ``bits`` bits to ``memory`` (a
bits)``                            :class:`simulator.workload.Memory`: kind, capacity, word bits)
``leakage_mw(memory)``             leakage power of one memory (mW), None if not priced
``area_mm2(memory)``               area of one memory (mm²), None if not priced
``describe()``                     dict: name, class, unit, params, sources (of every number)
=================================  =================================================================

A spec names a model as (tried in this order):

1. a built-in name: ``counts``, ``horowitz45``, ``cacti28``;
2. a YAML table file (ends in ``.yaml`` / ``.yml``; relative to the workload file), schema in
   :mod:`cost_models.table`;
3. ``module:Class`` (any importable class or factory);
4. a name registered in the ``tess_sim.cost_models`` entry-point group (value ``module:Class``).

Parameters: a workload gives ``{model: cacti28, alpha: 0.78}``; the command line gives
``--cost-model cacti28,alpha=0.78`` (values read as YAML scalars). The model is called with them
as keyword arguments.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import yaml

from simulator.errors import UserError

from .builtin import BUILTINS
from .table import FileTableModel

GROUP = "tess_sim.cost_models"


@runtime_checkable
class CostModel(Protocol):
    name: str
    unit: str

    def can_price(self, component: str, action: str) -> bool: ...

    def op_energy(self, kind: str, bits): ...

    def access_energy(self, memory, action: str, bits): ...

    def leakage_mw(self, memory) -> float | None: ...

    def area_mm2(self, memory) -> float | None: ...

    def describe(self) -> dict: ...


def parse_cli_spec(text: str) -> dict:
    """``NAME[,key=value...]`` → ``{"model": NAME, key: value}`` (values as YAML scalars)."""
    name, *pairs = [p.strip() for p in text.split(",")]
    out: dict[str, Any] = {"model": name}
    for pair in pairs:
        if "=" not in pair:
            raise UserError("--cost-model", text, f"'{pair}' is not key=value")
        key, value = pair.split("=", 1)
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            out[key.strip()] = value
    return out


def entry_point_names() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=GROUP))


def _load_object(ref: str, where: str, field: str):
    """``module:attr.path`` → the object; a UserError naming it when it cannot be imported."""
    module_name, _, attr = ref.partition(":")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(where, field, f"cannot import cost model module '{module_name}': {exc}") from None
    try:
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError:
        raise UserError(where, field, f"module '{module_name}' has no '{attr}'") from None
    return obj


def _instantiate(factory, name: str, params: dict, where: str, field: str):
    try:
        model = factory(**params)
    except UserError as exc:
        if exc.where.startswith("cost model "):  # a parameter: name the workload / option too
            raise UserError(where, f"{field}.{exc.field}" if exc.field else field,
                            f"{exc.where}: {exc.reason}") from None
        raise  # a table file's own mistake names that file
    except TypeError as exc:
        raise UserError(where, field, f"cost model '{name}' rejects its parameters {sorted(params)}: {exc}") from None
    if not isinstance(model, CostModel):
        missing = [m for m in ("name", "unit", "can_price", "op_energy", "access_energy", "leakage_mw",
                               "area_mm2", "describe") if not hasattr(model, m)]
        raise UserError(where, field, f"'{name}' is not a cost model (missing {', '.join(missing)})")
    return model


def load_cost_model(spec: str | dict, base: str | Path | None = None, where: str = "cost_models",
                    field: str = "cost_models"):
    """A cost model from a spec (a name string, or a mapping ``{model: NAME, **params}``).

    ``base`` is the folder relative table paths start from (the workload's folder). An unknown
    name, a bad table or bad parameters are UserErrors naming ``where`` and ``field``.
    """
    if isinstance(spec, dict):
        if "model" not in spec or not isinstance(spec["model"], str):
            raise UserError(where, field, "a cost model mapping needs 'model: NAME' (and its parameters)")
        params = {k: v for k, v in spec.items() if k != "model"}
        name = spec["model"]
    elif isinstance(spec, str):
        name, params = spec, {}
    else:
        raise UserError(where, field, f"expected a cost model name or mapping, got {spec!r}")
    if name in BUILTINS:
        return _instantiate(BUILTINS[name], name, params, where, field)
    if name.endswith((".yaml", ".yml")):
        path = Path(name)
        if not path.is_absolute() and base is not None:
            path = Path(base) / path
        if not path.exists():
            raise UserError(where, field, f"cost table '{name}' not found (looked at {path})")
        return _instantiate(lambda **p: FileTableModel(path, **p), name, params, where, field)
    if ":" in name:
        return _instantiate(_load_object(name, where, field), name, params, where, field)
    eps = {ep.name: ep for ep in entry_points(group=GROUP)}
    if name in eps:
        try:
            factory = eps[name].load()
        except Exception as exc:  # a broken plugin is the user's install, not our bug
            raise UserError(where, field, f"cost model plugin '{name}' failed to load: {exc}") from None
        return _instantiate(factory, name, params, where, field)
    known = sorted(BUILTINS) + list(eps)
    import difflib

    hint = difflib.get_close_matches(name, known, n=1)
    raise UserError(where, field, f"unknown cost model '{name}'" + (f" (did you mean '{hint[0]}'?)" if hint else "")
                    + f"; known: {', '.join(known)}; or give module:Class or a .yaml table")
