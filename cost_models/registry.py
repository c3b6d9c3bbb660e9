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

1. a built-in name: ``counts``, ``horowitz45``, ``cacti28``, ``accelergy-ert`` (its ``file``
   parameter is relative to the workload file, like a table);
2. a YAML table file (ends in ``.yaml`` / ``.yml``; relative to the workload file), schema in
   :mod:`cost_models.table`;
3. ``module:Class``: an importable *class* that is a cost model (a :class:`TableModel` subclass
   or a class with the protocol's methods), checked before it is called with any parameter.
   Importing a module runs its code, so a workload *file* may name one only with the opt-in
   (``--allow-plugin-modules`` or ``TESS_SIM_ALLOW_PLUGIN_MODULES=1``); without it the spec is
   refused before the import. A ``--cost-model`` option is the user's own choice (no opt-in);
4. a name registered in the ``tess_sim.cost_models`` entry-point group (value ``module:Class``;
   installed code, no opt-in).

Parameters: a workload gives ``{model: cacti28, alpha: 0.78}``; the command line gives
``--cost-model cacti28,alpha=0.78`` (values read as YAML scalars). The model is called with them
as keyword arguments.
"""

from __future__ import annotations

import importlib
import os
import re
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import yaml

from tess_sim.simulator.errors import UserError

from tess_sim.cost_models.builtin import BUILTINS
from tess_sim.cost_models.table import FileTableModel, TableModel

GROUP = "tess_sim.cost_models"
ALLOW_ENV = "TESS_SIM_ALLOW_PLUGIN_MODULES"
"""Set to ``1`` to let workload files name ``module:Class`` cost models (``--allow-plugin-modules``
sets it, so sweep workers inherit it)."""
METHODS = ("can_price", "op_energy", "access_energy", "leakage_mw", "area_mm2", "describe")
_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_MODULE_SPEC = re.compile(rf"^({_DOTTED}):({_DOTTED})$")


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


def plugin_modules_allowed() -> bool:
    """Whether workload files may name ``module:Class`` cost models (the opt-in is set)."""
    return os.environ.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes")


def allow_plugin_modules() -> None:
    """Turn the opt-in on for this process and the processes it starts (sweep workers)."""
    os.environ[ALLOW_ENV] = "1"


def _spec_name(spec) -> str | None:
    if isinstance(spec, dict):
        return spec.get("model") if isinstance(spec.get("model"), str) else None
    return spec if isinstance(spec, str) else None


def is_module_spec(name: str) -> bool:
    """A ``module:Class`` spec (anything with a colon that is not a table path)."""
    return ":" in name and name not in BUILTINS and not name.endswith((".yaml", ".yml"))


def check_file_specs(specs, where: str, field: str = "cost_models") -> None:
    """Refuse ``module:Class`` specs read from a file ``where`` unless the opt-in is set (nothing
    is imported: importing a module runs its code)."""
    for i, spec in enumerate(specs or []):
        name = _spec_name(spec)
        if name is not None:
            _check_opt_in(name, where, f"{field}[{i}]")


def _check_opt_in(name: str, where: str, field: str) -> None:
    if is_module_spec(name) and not plugin_modules_allowed():
        raise UserError(where, field, f"'{name}' names a Python module: refused, because importing a module "
                        f"named by a workload file runs its code; pass --allow-plugin-modules (or set "
                        f"{ALLOW_ENV}=1) if you trust this file, or register the model as a '{GROUP}' entry point")


def _load_class(ref: str, where: str, field: str) -> type:
    """``module:Class`` → the class, checked to be a cost model before anything calls it."""
    m = _MODULE_SPEC.match(ref)
    if not m:
        raise UserError(where, field, f"'{ref}' is not a module:Class spec (an absolute dotted module name, "
                        "a colon, a class name; e.g. mypkg.models:MyModel)")
    module_name, attr = m.groups()
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(where, field, f"cannot import cost model module '{module_name}': {exc}") from None
    except (Exception, SystemExit) as exc:  # the module's own code failed while importing
        raise UserError(where, field, f"cost model module '{module_name}' failed to import: "
                        f"{type(exc).__name__}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UserError(where, field, f"module '{module_name}' has no '{attr}'") from None
    if not isinstance(obj, type):
        raise UserError(where, field, f"'{ref}' is not a class ({type(obj).__name__}); a cost model spec "
                        "names a cost model class")
    if not issubclass(obj, TableModel):
        missing = [m for m in METHODS if not callable(getattr(obj, m, None))]
        if missing:
            raise UserError(where, field, f"'{ref}' is not a cost model class (missing {', '.join(missing)})")
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
                    field: str = "cost_models", from_file: bool = False):
    """A cost model from a spec (a name string, or a mapping ``{model: NAME, **params}``).

    ``base`` is the folder relative table paths start from (the workload's folder). An unknown
    name, a bad table or bad parameters are UserErrors naming ``where`` and ``field``.
    ``from_file``: the spec was read from the file ``where``, so a ``module:Class`` needs the
    opt-in (:func:`plugin_modules_allowed`).
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
        factory = BUILTINS[name]
        for key in getattr(factory, "PATH_PARAMS", ()):  # file parameters: from the workload's folder
            value = params.get(key)
            if isinstance(value, str) and base is not None and not Path(value).is_absolute():
                params = {**params, key: str(Path(base) / value)}
        return _instantiate(factory, name, params, where, field)
    if name.endswith((".yaml", ".yml")):
        path = Path(name)
        if not path.is_absolute() and base is not None:
            path = Path(base) / path
        if not path.exists():
            raise UserError(where, field, f"cost table '{name}' not found (looked at {path})")
        return _instantiate(lambda **p: FileTableModel(path, **p), name, params, where, field)
    if is_module_spec(name):
        if from_file:
            _check_opt_in(name, where, field)
        return _instantiate(_load_class(name, where, field), name, params, where, field)
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
