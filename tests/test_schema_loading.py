"""Loading details behind the bad-input suite (issue 10 items 2, 4, 6, 8, 9): counts never wrap,
the YAML reader's duplicate-key and alias checks, ``--set`` on lists and kinds, preset files in a
sweep (the point hash is of the resolved content), shipped workloads by name."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tess_sim.simulator import limits
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.workload import set_dotted
from tess_sim.simulator.yaml_io import load_yaml_text
from tess_sim.api import load

from .conftest import WORKLOADS


def test_counts_do_not_wrap_beyond_int64(monkeypatch):
    """dvs at width 10^6 (limits lifted): S = C_in·C_out·Σcy·Σcx is ~7e19 > 2^63; the ledger must
    hold the exact value (as float64), never a wrapped negative one."""
    from tess_sim.api import run
    from tess_sim.simulator.network import build_network

    for name in ("MAX_CHANNELS", "MAX_LAYER_ELEMENTS", "MAX_TOTAL_ELEMENTS", "MAX_LAYER_WEIGHTS",
                 "MAX_TOTAL_WEIGHTS"):
        monkeypatch.setattr(limits, name, 10 ** 30)
    wl = load(WORKLOADS / "dvs.yaml", overrides={"network.width_multiplier": 1000})
    wl = wl.model_copy(update={"network": wl.network.model_copy(update={"width_multiplier": 1_000_000.0})})
    wl._source = str(WORKLOADS / "dvs.yaml")
    net = build_network(wl)
    conv2 = net.blocks[1]
    cin, cout, h = 64_000_000, 128_000_000, 32  # 3×3, stride 1, padding 1: 3·32 − 2 taps per axis
    assert conv2.S == cin * cout * (3 * h - 2) ** 2 > 2 ** 63
    res = run(wl, engine="analytical")
    counts = res.ledger["count"].to_numpy()
    assert (counts >= 0).all() and np.isfinite(counts).all()
    fwd = res.ledger.query("convention == 'full' and rule == 'bptt' and layer == 'conv2' and phase == 'fwd' "
                           "and action == 'ac'")["count"].iloc[0]
    assert fwd == float(conv2.S * net.T)


def test_ledger_refuses_an_impossible_count():
    from tess_sim.simulator.ledger import LedgerError, make_ledger

    with pytest.raises(LedgerError):
        make_ledger([("full", "bptt", "c1", "fwd", "pe", "ac", -2.8e19, 16, "hand-made")])
    with pytest.raises(LedgerError):
        make_ledger([("full", "bptt", "c1", "fwd", "pe", "ac", float("nan"), 16, "hand-made")])


def test_duplicate_keys_name_the_key_and_both_lines():
    with pytest.raises(UserError) as err:
        load_yaml_text("a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\n", "f.yaml")
    assert err.value.field == "b.c" and "lines 3 and 5" in err.value.reason
    assert load_yaml_text("base: &b {x: 1}\nother:\n  <<: *b\n  x: 2\n", "f.yaml")["other"] == {"x": 2}


def test_alias_bomb_and_recursive_alias_are_refused_fast():
    bomb = "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    with pytest.raises(UserError) as err:
        load_yaml_text(bomb, "bomb.yaml")
    assert "aliases" in err.value.reason
    with pytest.raises(UserError) as err:
        load_yaml_text("a: &a [*a]\n", "loop.yaml")
    assert "recursive" in err.value.reason
    assert load_yaml_text("x: &x [1, 2]\ny: *x\n", "ok.yaml") == {"x": [1, 2], "y": [1, 2]}


def test_set_dotted_lists_by_name_and_index_and_kind_switch():
    data = {"network": {"layers": [{"type": "conv", "out_channels": 4}, {"type": "maxpool"},
                                   {"type": "conv", "out_channels": 8, "name": "mid"}, {"type": "readout"}]},
            "activity": {"source": "rates", "input": 0.2, "layers": {"mid": 0.1}},
            "data": {"format": "synthetic", "layout": "dvsgesture", "mode": "time"}}
    out = set_dotted(data, "network.layers.conv1.kernel", 5)
    assert out["network"]["layers"][0]["kernel"] == 5 and "kernel" not in data["network"]["layers"][0]
    assert set_dotted(data, "network.layers.mid.out_channels", 16)["network"]["layers"][2]["out_channels"] == 16
    assert set_dotted(data, "network.layers.3.bias", False)["network"]["layers"][3]["bias"] is False
    assert set_dotted(data, "activity.source", "dense")["activity"] == {"source": "dense"}
    assert set_dotted(data, "activity.source", "rates")["activity"] == data["activity"]  # same kind: kept
    assert set_dotted(data, "activity.source", "measured")["activity"] == {"source": "measured"}
    assert set_dotted(data, "data.format", "npy")["data"] == {"format": "npy", "mode": "time"}
    with pytest.raises(UserError, match="conv1, maxpool1, mid, readout"):
        set_dotted(data, "network.layers.conv3.kernel", 3)


def test_preset_sweep_hash_is_of_the_resolved_content(tmp_path):
    """A preset given by file is hashed by its content: the edge preset is the same point as the
    workload's own (it names hw/edge.yaml), and a copy under another name is the same point too."""
    from tess_sim.sweeps import plan_sweep

    shutil.copy(WORKLOADS / "hw" / "edge.yaml", tmp_path / "copy_of_edge.yaml")
    plan = plan_sweep(WORKLOADS / "small.yaml", {"hardware": f"hw/edge.yaml,hw/odin.yaml,{tmp_path}/copy_of_edge.yaml"})
    assert len(plan.points) == 2  # the copy is the same resolved point as hw/edge.yaml
    base = plan_sweep(WORKLOADS / "small.yaml", {"T": "4"})
    assert plan.points[0].key == base.points[0].key
    assert plan.points[1].config["hardware"]["name"] == "odin"


def test_shipped_names_and_path_wins(tmp_path, monkeypatch):
    from tess_sim.simulator.workload import find_workload, shipped_names

    assert {"dvs", "small", "cifar10", "reckon"} <= set(shipped_names())
    monkeypatch.chdir(tmp_path)
    assert find_workload("dvs") == WORKLOADS / "dvs.yaml"
    assert find_workload("dvs.yaml") == WORKLOADS / "dvs.yaml"
    (tmp_path / "dvs.yaml").write_text("name: mine\n")
    assert find_workload("dvs.yaml").resolve() == (tmp_path / "dvs.yaml").resolve()
    with pytest.raises(UserError, match="shipped: .*small"):
        find_workload("nope")
    with pytest.raises(UserError, match="file not found$"):
        load("sub/dvs")
    (tmp_path / "small").mkdir()  # a folder of a shipped name does not shadow the workload
    assert find_workload("small") == WORKLOADS / "small.yaml"
    (tmp_path / "mine").mkdir()
    with pytest.raises(UserError, match="is a directory"):
        load("mine")
