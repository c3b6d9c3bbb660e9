"""Property test (issue 15 item 3): every float field of the workload schema, hardware and nested
sections included, set to NaN, +inf, -inf and 1e308 on workloads/small.yaml, is either refused
(a UserError, i.e. exit 2, naming the field) or gives a run whose every output number is finite.

The fields are found by walking the pydantic models, so a float field added later is covered
without editing this file.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Any, Union

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.workload import Hardware, Workload
from tess_sim.simulator.yaml_io import read_yaml
from tess_sim.api import load

from .conftest import WORKLOADS

SMALL = WORKLOADS / "small.yaml"
BAD = [math.nan, math.inf, -math.inf, 1e308]


def _unwrap(annotation: Any) -> list[Any]:
    """The alternatives of an annotation (Annotated and Optional removed)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [a for arg in typing.get_args(annotation) for a in _unwrap(arg)]
    return [annotation]


def layer_names(layers: list[dict]) -> list[str]:
    """The documented layer names: given, else the n-th layer of a type is ``<type><n>``."""
    seen: dict[str, int] = {}
    out = []
    for layer in layers:
        seen[layer["type"]] = seen.get(layer["type"], 0) + 1
        out.append(layer.get("name") or ("readout" if layer["type"] == "readout" else
                                         f"{layer['type']}{seen[layer['type']]}"))
    return out


def _kind(model: type[BaseModel]) -> tuple[str, str] | None:
    """(discriminator key, value) of a union variant (``type: conv``, ``source: rates``)."""
    for key in ("type", "source"):
        f = model.model_fields.get(key)
        if f is not None and typing.get_origin(f.annotation) is typing.Literal:
            return key, typing.get_args(f.annotation)[0]
    return None


def float_fields(model: type[BaseModel], prefix: str, data: Any) -> list[tuple[dict, str]]:
    """(overrides that select the variant, dotted key) of every float leaf under ``model``;
    ``data`` is small.yaml's section, used to address list elements by name."""
    out = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        sub = data.get(name) if isinstance(data, dict) else None
        for alt in _unwrap(field.annotation):
            origin = typing.get_origin(alt)
            if alt is float:
                out.append(({}, key))
            elif origin is dict and float in _unwrap(typing.get_args(alt)[1]):
                out.append(({}, f"{key}.c2"))  # activity.layers: a rate per layer name
            elif origin is list:
                items = sub or []
                for m in _unwrap(typing.get_args(alt)[0]):
                    if not (isinstance(m, type) and issubclass(m, BaseModel)):
                        continue
                    kind = _kind(m)
                    names = layer_names(items) if name == "layers" else [x.get("name") for x in items]
                    match = [n for n, x in zip(names, items) if kind is None or x.get(kind[0]) == kind[1]]
                    inner = float_fields(m, "", {})
                    if inner:
                        assert match, f"small.yaml has no {key} element of kind {kind}: extend the test"
                        out += [(sel, f"{key}.{match[0]}.{k}") for sel, k in inner]
            elif isinstance(alt, type) and issubclass(alt, BaseModel):
                kind = _kind(alt)
                sel = {}
                if kind and (not isinstance(sub, dict) or sub.get(kind[0]) != kind[1]):
                    sel = {f"{key}.{kind[0]}": kind[1]}
                inner_data = sub if not sel else {}
                out += [({**sel, **s}, k) for s, k in float_fields(alt, key + ".", inner_data)]
    return out


def _small_data() -> dict:
    data = read_yaml(SMALL)
    data["hardware"] = read_yaml(WORKLOADS / "hw" / "edge.yaml")
    return data


FIELDS = float_fields(Workload, "", _small_data())
CASES = [(sel, key, v) for sel, key in FIELDS for v in BAD]


def test_the_walk_finds_the_float_fields_of_every_section():
    keys = {k for _, k in FIELDS}
    for expected in ("rules.stllr.alpha_pre", "rules.tess.alpha_post", "neuron.v_reset", "neuron.psi.gamma",
                     "hardware.clock_mhz", "hardware.router.packets_per_cycle", "network.width_multiplier",
                     "hardware.memories.weight_sram.bandwidth_bytes_per_cycle", "network.layers.c1.neuron.theta",
                     "network.layers.fc.neuron.psi.slope", "activity.layers.c2", "training.lr"):
        assert expected in keys, expected
    hw_floats = {k for _, k in float_fields(Hardware, "hardware.", _small_data()["hardware"])}
    assert hw_floats <= keys and len(hw_floats) >= 3


def _outputs(overrides: dict, engine: str) -> dict[str, pd.DataFrame]:
    """Every table a run prints or writes (cost models that use the clock and leakage included)."""
    from tess_sim.cost_models import cost_report, load_models

    from tess_sim.api import run

    wl = load(SMALL, overrides=overrides)
    res = run(wl, engine=engine)
    costs = cost_report(res, models=load_models(["counts", "horowitz45", "cacti28"], wl.source))
    tables = {"ledger": res.ledger, "summary": res.summary, "timing": res.timing,
              "energy": costs.summary, "breakdown": costs.breakdown}
    return {k: v.select_dtypes(include=[np.number]).reset_index(drop=True) for k, v in tables.items()
            if v is not None}


_BASELINE: dict[str, dict] = {}


def _nan_cells(engine: str) -> dict[str, np.ndarray]:
    """Cells that are NaN in an unmodified run (n/a by design, e.g. history_max_T of local rules)."""
    if engine not in _BASELINE:
        _BASELINE[engine] = {k: np.isnan(v.to_numpy(float)) for k, v in _outputs({}, engine).items()}
    return _BASELINE[engine]


@pytest.mark.parametrize("sel,key,value", CASES, ids=[f"{k}={v}" for _, k, v in CASES])
def test_every_float_field_refuses_non_finite_or_runs_finite(sel, key, value):
    engine = "simpy" if key.startswith(("hardware", "simulation")) else "analytical"
    try:
        tables = _outputs({**sel, key: value}, engine)
    except UserError as exc:
        assert exc.field.endswith(key.split(".")[-1]) or key in exc.field, exc.line()
        assert exc.where.endswith("small.yaml"), exc.line()
        return
    assert math.isfinite(value), f"{key}={value} was accepted"
    base = _nan_cells(engine)
    for name, df in tables.items():
        vals = df.to_numpy(float)
        assert not np.isinf(vals).any(), f"{key}={value}: infinite numbers in the {name}"
        if vals.shape == base[name].shape:
            assert not (np.isnan(vals) & ~base[name]).any(), f"{key}={value}: NaN in the {name}"
        else:
            assert not np.isnan(vals).any(), f"{key}={value}: NaN in the {name}"
