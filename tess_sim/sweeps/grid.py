"""Sweep grids: parse ``KEY=V1,V2,…`` settings, check keys against the workload schema, and
expand the cartesian product of all settings into points.

Value syntax (comma-separated items, each a YAML scalar or a range):

* ``a..b``     every integer from a to b (step 1)
* ``a..b+s``   arithmetic: a, a+s, a+2s, … ≤ b
* ``a..b*k``   geometric: a, a·k, a·k², … ≤ b (``T=1..1024*2`` gives 11 points)
* ``[4,2,1]``  a YAML list is one value (commas inside brackets do not split)
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
import types
import typing
from typing import Any, Union

import yaml
from pydantic import BaseModel

from tess_sim.simulator import limits as L
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.workload import Workload
from tess_sim.simulator.yaml_io import load_yaml_text

ALIASES = {"T": "input.T"}
_NUM = r"(-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
_RANGE = re.compile(rf"^{_NUM}\.\.{_NUM}(?:([*+]){_NUM})?$")
_EPS = 1e-9


# --------------------------------------------------------------------------- keys
def _models_in(annotation: Any) -> tuple[list[type[BaseModel]], bool, list[type[BaseModel]]]:
    """The pydantic models an annotation can hold, whether it is an open mapping (dict), and the
    models of its list elements (a list of models is addressed by index or name)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        models, is_open, items = [], False, []
        for arg in typing.get_args(annotation):
            m, o, i = _models_in(arg)
            models += m
            is_open |= o
            items += i
        return models, is_open, items
    if origin is dict:
        return [], True, []
    if origin is list:
        inner = _models_in(typing.get_args(annotation)[0])
        return [], False, inner[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation], False, []
    return [], False, []


def schema_keys(model: type[BaseModel] = Workload, prefix: str = "") -> dict[str, bool]:
    """Every dotted key of the schema -> True when it is an open mapping (any sub-key allowed).
    ``*`` stands for a list element (an index or a name: ``network.layers.*.kernel``)."""
    out: dict[str, bool] = {}
    for name, field in model.model_fields.items():
        if name == "sweep":
            continue
        key = f"{prefix}{name}"
        models, is_open, items = _models_in(field.annotation)
        out[key] = is_open
        if items:
            out[f"{key}.*"] = False
        for m, sub_prefix in [(m, key + ".") for m in models] + [(m, key + ".*.") for m in items]:
            for sub, o in schema_keys(m, sub_prefix).items():
                out[sub] = out.get(sub, False) or o
    return out


def _matches(parts: list[str], pattern: str) -> bool:
    pat = pattern.split(".")
    return len(pat) == len(parts) and all(p == "*" and q or p == q for p, q in zip(pat, parts))


def check_key(key: str, where: str = "--set") -> str:
    """The canonical dotted key (``T`` -> ``input.T``); UserError with a did-you-mean otherwise."""
    full = ALIASES.get(key, key)
    keys = schema_keys()
    if full in keys:
        return full
    parts = full.split(".")
    for i in range(1, len(parts)):  # a sub-key of an open mapping (activity.layers.conv3)
        head = parts[:i]
        if any(o and _matches(head, k) for k, o in keys.items()) and all(parts[i:]):
            return full
    if any("*" in k and _matches(parts, k) for k in keys):  # network.layers.conv2.out_channels
        return full
    hint = difflib.get_close_matches(full, sorted(keys) + list(ALIASES), n=1, cutoff=0.5)
    extra = f" (did you mean '{hint[0]}'?)" if hint else ""
    raise UserError(where, key, f"unknown workload key{extra}")


# --------------------------------------------------------------------------- values
def _split(text: str) -> list[str]:
    """Split on commas outside brackets and braces."""
    items, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    return [s.strip() for s in items]


def _number(text: str, where: str, key: str) -> int | float:
    try:
        v = yaml.safe_load(text)
    except yaml.YAMLError:
        v = None
    if isinstance(v, float) and not math.isfinite(v):
        v = None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise UserError(where, key, f"'{text}' in a range is not a number")
    return v


def expand_range(item: str, where: str = "--set", key: str = "") -> list[Any] | None:
    """The values of a range item (``a..b``, ``a..b+s``, ``a..b*k``), or None if it is not one."""
    m = _RANGE.match(item.replace(" ", ""))
    if not m:
        return None
    lo, hi = _number(m[1], where, key), _number(m[2], where, key)
    op, step = m[3] or "+", _number(m[4], where, key) if m[4] else 1
    if hi < lo:
        raise UserError(where, key, f"range '{item}' is empty (end < start)")
    if op == "+" and step <= 0:
        raise UserError(where, key, f"range '{item}': the step must be > 0")
    if op == "*" and (step <= 1 or lo <= 0):
        raise UserError(where, key, f"range '{item}': a geometric range needs start > 0 and factor > 1")
    whole = all(isinstance(x, int) for x in (lo, hi, step))
    out, i = [], 0
    while True:
        v = lo + i * step if op == "+" else lo * step ** i
        if v > hi + _EPS * max(1.0, abs(hi)):
            break
        out.append(int(v) if whole else float(v))
        i += 1
        if len(out) > L.MAX_GRID_POINTS:
            raise UserError(where, key, f"range '{item}' has more than {L.MAX_GRID_POINTS:,} values "
                            "(docs/limits.md)")
    return out


def parse_values(key: str, spec: Any, where: str = "--set") -> list[Any]:
    """The value list of one setting: a string spec (see module doc), a list, or one scalar."""
    if isinstance(spec, list):
        values: list[Any] = []
        for v in spec:
            values += parse_values(key, v, where) if isinstance(v, str) and ".." in v else [v]
        return values
    if not isinstance(spec, str):
        return [spec]
    values = []
    for item in _split(spec):
        if item == "":
            raise UserError(where, key, f"empty value in '{spec}'")
        rng = expand_range(item, where, key)
        if rng is not None:
            values += rng
            continue
        values.append(load_yaml_text(item, f"{where} {key}"))
    return values


def parse_set(text: str) -> tuple[str, list[Any]]:
    """``KEY=V1,V2,…`` -> (canonical key, values)."""
    if "=" not in text:
        raise UserError("--set", text, "expected KEY=V1,V2,… (e.g. T=1..1024*2)")
    key, spec = text.split("=", 1)
    key = key.strip()
    canon = check_key(key)
    values = parse_values(key, spec)
    return canon, values


def build_grid(settings: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The cartesian product, in order (the last key varies fastest): one dict per point."""
    if not settings:
        return [{}]
    for key, values in settings.items():
        if not values:
            raise UserError("--set", key, "no values")
        if len({repr(v) for v in values}) != len(values):
            raise UserError("--set", key, f"repeated values in {values}")
    n = math.prod(len(v) for v in settings.values())
    if n > L.MAX_GRID_POINTS:
        sizes = " × ".join(f"{len(v)} {k}" for k, v in settings.items())
        raise UserError("--set", ", ".join(settings), f"the grid has {sizes} = {n:,} points, over the limit of "
                        f"{L.MAX_GRID_POINTS:,} (docs/limits.md)")
    keys = list(settings)
    return [dict(zip(keys, combo)) for combo in itertools.product(*settings.values())]
