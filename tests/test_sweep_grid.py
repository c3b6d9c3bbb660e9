"""Sweep grids: value syntax against closed forms, keys against the schema, the product, the
point hash, and bad input (exit 2, one line, nothing written)."""

from __future__ import annotations

import itertools

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from tess_sim.cli import main
from tess_sim.simulator.errors import UserError
from tess_sim.sweeps import build_grid, check_key, parse_set, parse_values, plan_sweep
from tess_sim.sweeps.grid import schema_keys
from tess_sim.api import from_dict

from .conftest import WORKLOADS


def test_value_syntax():
    assert parse_set("T=1..1024*2") == ("input.T", [2 ** k for k in range(11)])
    assert parse_set("input.classes=10..1000*10")[1] == [10, 100, 1000]
    assert parse_set("network.width_multiplier=1..8*2")[1] == [1, 2, 4, 8]
    assert parse_set("hardware.pe.units=3..9+3")[1] == [3, 6, 9]
    assert parse_set("input.batch=2..5")[1] == [2, 3, 4, 5]
    assert parse_set("rules.tess.alpha_post=0..1+0.25")[1] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert parse_set("rules.tess.lsg_pool=[2,1,1],[1,1,1]")[1] == [[2, 1, 1], [1, 1, 1]]
    assert parse_set("rules.tess.optimizer=sgd,adam")[1] == ["sgd", "adam"]
    assert parse_set("T=4,1..2*2, 16")[1] == [4, 1, 2, 16]
    assert parse_values("input.T", ["1..4*2", 8]) == [1, 2, 4, 8]


@given(st.integers(1, 50), st.integers(2, 5), st.integers(0, 8))
def test_geometric_range_is_every_power(lo, k, n):
    hi = lo * k ** n
    assert parse_values("input.T", f"{lo}..{hi}*{k}") == [lo * k ** i for i in range(n + 1)]


@given(st.integers(-20, 20), st.integers(0, 40), st.integers(1, 7))
def test_arithmetic_range(lo, span, step):
    assert parse_values("x", f"{lo}..{lo + span}+{step}") == list(range(lo, lo + span + 1, step))


@pytest.mark.parametrize("text, reason", [
    ("T=5..1", "empty"), ("T=1..8*1", "geometric"), ("T=0..8*2", "geometric"), ("T=1..8+0", "step"),
    ("T=1,,2", "empty value"), ("T", "expected KEY="), ("T=a..b", None),
])
def test_bad_values(text, reason):
    try:
        parse_set(text)
    except UserError as exc:
        assert reason is None or reason in exc.reason
    else:
        assert reason is None  # 'a..b' is not a range: a plain string, rejected later by the schema


def test_keys_against_schema():
    keys = schema_keys()
    for k in ("input.T", "hardware.pe.units", "rules.tess.alpha_post", "network.width_multiplier",
              "hardware.precision.weight", "activity.default", "neuron.psi.gamma"):
        assert k in keys and check_key(k) == k
    assert check_key("T") == "input.T"
    assert check_key("activity.layers.c2") == "activity.layers.c2"  # a sub-key of an open mapping
    with pytest.raises(UserError, match="did you mean 'hardware.pe.units'"):
        check_key("hardware.pe.unit")
    with pytest.raises(UserError, match="did you mean 'rules.tess.alpha_post'"):
        check_key("rules.tess.alpha_pst")


def test_grid_is_the_product():
    g = build_grid({"a": [1, 2, 3], "b": ["x", "y"]})
    assert g == [dict(a=a, b=b) for a, b in itertools.product([1, 2, 3], ["x", "y"])]
    with pytest.raises(UserError, match="repeated"):
        build_grid({"a": [1, 1]})


def test_point_hash_is_the_resolved_configuration(small_dict, tmp_path):
    wl = from_dict(small_dict)
    base = plan_sweep(wl, {"T": [small_dict["input"]["T"], 8]}).points
    # T set to the workload's own T resolves to the workload itself: same hash as no sweep at all
    assert base[0].key == plan_sweep(wl, {"input.batch": [small_dict["input"]["batch"]]}).points[0].key
    assert base[0].key != base[1].key
    # the sweep: section of a workload is the same as --set
    small_dict["sweep"] = {"T": "4..8*2"}
    f = tmp_path / "w.yaml"
    f.write_text(yaml.safe_dump(small_dict))
    from tess_sim.api import load

    sec = plan_sweep(load(f))
    assert [p.key for p in sec.points] == [p.key for p in base] and sec.settings == {"input.T": [4, 8]}
    # a resolved config rebuilds the same workload
    cfg = base[1].config
    assert from_dict(cfg).model_dump(mode="json", exclude_none=True, exclude={"sweep"}) == cfg


@pytest.mark.parametrize("args, needle", [
    (["--set", "hardware.pe.unit=1,2"], "did you mean 'hardware.pe.units'"),
    (["--set", "T=0,4"], "sweep point input.T=0"),
    (["--set", "network.width_multiplier=-1"], "network.width_multiplier"),
    ([], "nothing to sweep"),
    (["--set", "T=1,2", "--scheduler", "tcp://x:1"], "only used with --executor dask"),
    (["--set", "T=1,2", "--engine", "analytic"], "unknown engine 'analytic'"),
])
def test_cli_bad_input_exit_2_nothing_written(tmp_path, args, needle):
    out = tmp_path / "sw"
    r = CliRunner().invoke(main, ["sweep", str(WORKLOADS / "small.yaml"), "--out", str(out)] + args)
    assert r.exit_code == 2, r.output
    assert needle in r.output and r.output.count("\n") == 1 and "Traceback" not in r.output
    assert not out.exists()
