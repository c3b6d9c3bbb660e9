"""The command line: run writes its four files; bad input gives exit 2 and one line."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from tess_sim.api import load
from tess_sim.simulator.network import build_network
from tess_sim.cli import main

from .conftest import WORKLOADS

GOOD = (WORKLOADS / "small.yaml").read_text()


def test_run_writes_summary_ledger_results_and_plot(tmp_path):
    out = tmp_path / "o"
    res = CliRunner().invoke(main, ["run", str(WORKLOADS / "small.yaml"), "--out", str(out), "--engine", "analytical"])
    assert res.exit_code == 0, res.output
    assert "paper #MAC (M)" in res.output and "TESS" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["activity.csv", "complexity.png", "energy.csv",
                                                     "energy_breakdown.csv", "ledger.csv", "neurobench.csv", "placement.csv",
                                                     "report.html", "report.md", "results.json", "summary.csv"]
    ledger = pd.read_csv(out / "ledger.csv", keep_default_na=False)
    assert list(ledger.columns) == ["convention", "rule", "layer", "phase", "unit", "action", "count", "bits",
                                    "term", "memory"]
    summary = pd.read_csv(out / "summary.csv", index_col="rule")
    # the summary is the ledger, summed: check one figure both ways
    paper = ledger[(ledger.convention == "paper") & (ledger.unit == "pe")]
    assert summary.loc["tess", "paper_mac_M"] == pytest.approx(paper[paper.rule == "tess"]["count"].sum() / 1e6)
    meta = json.loads((out / "results.json").read_text())
    assert meta["version"] and meta["workload"]["name"] == "small"
    assert (out / "complexity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_validate_and_schema():
    r = CliRunner().invoke(main, ["validate", str(WORKLOADS / "dvs.yaml")])
    assert r.exit_code == 0 and r.output.startswith("ok:")
    r = CliRunner().invoke(main, ["schema"])
    assert r.exit_code == 0 and "properties" in json.loads(r.output)


def _edit(**changes):
    d = yaml.safe_load(GOOD)
    for path, value in changes.items():
        node = d
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node[k]
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is KeyError:
            del node[last]
        else:
            node[last] = value
    return yaml.safe_dump(d)


BAD = {  # name: (file text, field text expected in the message, reason text expected)
    "yaml_syntax": ("name: x\ninput: {shape: [2, 8, 8]\n", "", "YAML syntax error: line"),
    "empty": ("", "", "file is empty"),
    "not_mapping": ("- a\n- b\n", "(top level)", "expected a mapping"),
    "unknown_key": (GOOD.replace("network:", "netwrok:"), "(top level)", "did you mean 'network'"),
    "unknown_nested_key": (_edit(input__Tt=3), "input", "unknown key 'Tt' (did you mean 'T'?)"),
    "wrong_type": (_edit(input__T="many"), "input.T", "valid integer"),
    "T_zero": (_edit(input__T=0), "input.T", "greater than 0"),
    "negative_size": (_edit(network__layers__0__out_channels=-4), "network.layers[0].out_channels", "greater than 0"),
    "zero_batch": (_edit(input__batch=0), "input.batch", "greater than 0"),
    "unknown_rule": (_edit(rules={"bptt": {}, "tes": {}}), "rules", "did you mean 'tess'"),
    "no_rule": (_edit(rules={}), "rules", "at least one rule"),
    "unknown_layer_type": (_edit(network__layers__0__type="convv"), "network.layers[0]", "did you mean 'conv'"),
    "impossible_shape": (_edit(input__shape=[2, 9, 9]), "network.layers[1] (maxpool1)", "cannot be pooled"),
    "missing_field": (_edit(input__classes=KeyError), "input.classes", "required field is missing"),
    "hardware_missing": (_edit(hardware="hw/nope.yaml"), "hardware", "not found"),
    "lsg_pool_length": (_edit(rules__tess={"lsg_pool": [1, 1]}), "rules.tess.lsg_pool", "3 spiking blocks"),
    "activity_layer": (_edit(activity={"source": "rates", "layers": {"c3": 0.1}}), "activity.layers.c3", "no spiking layer of that name"),
    "rate_above_one": (_edit(activity={"source": "rates", "input": 1.5}), "activity.input", "less than or equal to 1"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_workload_exit_2_one_line(tmp_path, case):
    text, field, reason = BAD[case]
    wl = tmp_path / f"{case}.yaml"
    wl.write_text(text)
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "edge.yaml").write_text((WORKLOADS / "hw" / "edge.yaml").read_text())
    out = tmp_path / "out"
    for cmd in (["run", str(wl), "--out", str(out)], ["validate", str(wl)]):
        r = subprocess.run([sys.executable, "-m", "tess_sim.cli", *cmd], capture_output=True, text=True)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert "Traceback" not in r.stderr and r.stdout == ""
        assert lines[0].startswith(f"error: {wl}: ")
        if field:
            assert f": {field}: " in lines[0], lines[0]
        assert reason in lines[0], lines[0]
        assert not out.exists()


def test_missing_file_exit_2(tmp_path):
    r = subprocess.run([sys.executable, "-m", "tess_sim.cli", "run", str(tmp_path / "nope.yaml")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip() == f"error: {tmp_path / 'nope.yaml'}: file not found"


def test_bad_hardware_file_names_that_file(tmp_path):
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "edge.yaml").write_text("name: e\nmemories: []\n")
    wl = tmp_path / "w.yaml"
    wl.write_text(GOOD)
    r = subprocess.run([sys.executable, "-m", "tess_sim.cli", "validate", str(wl)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().startswith(f"error: {tmp_path / 'hw' / 'edge.yaml'}: memories: ")


def test_outputs_have_the_usual_permissions(tmp_path):
    import os

    from tess_sim.simulator.atomic import write_text

    p = write_text(tmp_path / "sub" / "x.csv", "a\n")
    mask = os.umask(0)
    os.umask(mask)
    assert (p.stat().st_mode & 0o777) == (0o666 & ~mask)
    assert [q.name for q in p.parent.iterdir()] == ["x.csv"]  # no temporary left behind


@pytest.mark.parametrize("new", [False, True])
def test_output_folders_have_the_usual_permissions(tmp_path, new):
    """A staged folder (a run's, or data synth's new one) is made by mkdtemp (0700) and renamed
    into place: it ends with the umask's permissions, as a folder made by mkdir would."""
    import os

    from tess_sim.outputs import new_folder, staged_folder
    from tess_sim.simulator.atomic import write_text

    out = tmp_path / "o"
    with (new_folder if new else staged_folder)(out) as tmp:
        write_text(tmp / "x.csv", "a\n")
    (tmp_path / "by_mkdir").mkdir()
    assert out.stat().st_mode & 0o777 == (tmp_path / "by_mkdir").stat().st_mode & 0o777
    assert sorted(q.name for q in tmp_path.iterdir()) == ["by_mkdir", "o"]  # no temporary left behind


def test_run_dvs_on_synthetic_events_with_measured_activity(tmp_path):
    """Issue 7 end to end: synthetic DVS recordings in the real format → frames → functional
    forward pass → measured counts → the ledger, with the per-layer spike rates printed; issue 13:
    the learning operands' densities per layer and the energy beside the dense bound, printed,
    written and on the report page."""
    out = tmp_path / "o"
    r = CliRunner().invoke(main, ["run", str(WORKLOADS / "dvs.yaml"), "--set", "activity.source=measured",
                                  "--set", "activity.samples=2", "--set", "network.width_multiplier=0.25",
                                  "--engine", "analytical", "--no-plot", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "activity: measured: 2 samples of synthetic" in r.output
    assert "spike rate per layer (spikes / neuron / step): conv1 " in r.output
    act = pd.read_csv(out / "activity.csv")
    led = pd.read_csv(out / "ledger.csv", keep_default_na=False)
    fwd = led[(led.convention == "full") & (led.rule == "tess") & (led.phase == "fwd") & (led.unit == "pe")
              & (led.action == "ac")].groupby("layer")["count"].sum()
    syn = act[act.layer != "input"].groupby("layer")["syn_ops"].sum()
    for layer, n in fwd.items():  # event-driven ACs are the measured synaptic operations
        assert n == pytest.approx(syn[layer])
    assert syn["conv1"] > 0 and (act[act.layer == "input"]["spikes"] > 0).all()
    # the mean over every neuron, from activity.csv: all spikes per step / all neurons
    net = build_network(load(WORKLOADS / "dvs.yaml", overrides={"network.width_multiplier": 0.25}))
    blocks = act[act.layer.isin([b.name for b in net.blocks])]
    mean = blocks.groupby("step")["spikes"].sum().mean() / sum(b.N_pre for b in net.blocks)
    line = next(x for x in r.output.splitlines() if x.startswith("spike rate per layer"))
    assert line.endswith(f"; all {sum(b.N_pre for b in net.blocks):,} neurons {mean:.4g}"), line
    # densities: Psi from activity.csv's own column; the dense learning ops are the summary's (edge: pe.zero none)
    assert "learning operands per layer (the run's hardware, pe.zero none" in r.output
    dens = pd.read_csv(out / "densities.csv").set_index("layer")
    psi = blocks.groupby("layer")["psi_nonzero"].mean()
    for b in net.blocks:
        assert dens.loc[b.name, "psi"] == pytest.approx(psi[b.name] / b.N_pre, rel=1e-12)
    summary = pd.read_csv(out / "summary.csv", index_col="rule")
    for rule in ("bptt", "stllr", "tess"):
        assert dens.loc["all", f"{rule}_learning_ops_dense"] == pytest.approx(summary.loc[rule, "ops_learning"],
                                                                              rel=1e-12)
        assert 0 < dens.loc["all", f"{rule}_learning_ops"] < dens.loc["all", f"{rule}_learning_ops_dense"]
    bound = pd.read_csv(out / "energy_dense_bound.csv")
    assert (bound["dense_total"] > bound["total"]).all() and "dense bound" in r.output
    page = (out / "report.html").read_text()
    assert "Spike rates and learning-operand densities per layer" in page and "dense bound" in page


def test_run_set_bad_key_exit_2(tmp_path):
    r = subprocess.run([sys.executable, "-m", "tess_sim.cli", "run", str(WORKLOADS / "small.yaml"),
                        "--set", "activty.source=measured", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "did you mean 'activity.source'" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
