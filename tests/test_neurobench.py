"""NeuroBench's metrics (simulator/neurobench.py) on a two-block network, against loops over every
step, sample, output neuron and tap of its real forward pass; beside our own ledger; the run's
neurobench.csv and the names the activity CSV accepts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tess_sim.api import run
from tess_sim.cli import main
from tess_sim.simulator.activity import ActivityProfile, dense, layer_from_counts, read_activity_csv
from tess_sim.simulator.functional.activity import measure_activity
from tess_sim.simulator.functional.network import forward, init_scheme
from tess_sim.simulator.network import build_network
from tess_sim.simulator.neurobench import neurobench_metrics
from tess_sim.simulator.workload import workload_from_dict

from .test_recorded_activity import brute_conv_ops, brute_pool

T, B = 4, 3


def two_block(pool_kind: str) -> dict:
    pool = {"type": "maxpool" if pool_kind == "max" else "avgpool", "kernel": 2}
    return {"name": "nb", "input": {"shape": [2, 8, 8], "T": T, "classes": 4, "batch": B},
            "network": {"layers": [{"type": "conv", "out_channels": 4, "name": "c1"}, pool,
                                   {"type": "conv", "out_channels": 6, "name": "c2", "bias": True},
                                   {"type": "maxpool", "kernel": 2}, {"type": "readout", "name": "out"}]},
            "rules": {"bptt": {}, "stllr": {}, "tess": {"lsg_pool": [1, 1]}}, "activity": {"source": "dense"}}


@pytest.fixture(scope="module", params=["max", "avg"])
def measured(request):
    wl = workload_from_dict(two_block(request.param))
    net = build_network(wl)
    w = {k: v * 2.5 for k, v in init_scheme(net, 1, wl.training.init).items()}
    x = (np.random.default_rng(2).random((T, B, 2, 8, 8)) < 0.35).astype(np.float32)
    prof = ActivityProfile("measured", "m", layer_from_counts(net, measure_activity(net, w, x)))
    return wl, net, w, x, prof, request.param


def brute(net, w, x, pool_kind):
    """Effective ACs / MACs, Dense and ActivationSparsity by loops over the forward's records."""
    records, _ = forward(net, w, x)
    acs = macs = dense_ops = spikes = 0.0
    for i, (b, r) in enumerate(zip(net.blocks, records)):
        xin = r.x.astype(np.float64)
        binary = bool(np.isin(xin, (0, 1)).all())  # NeuroBench's test, by value
        ops = sum(brute_conv_ops(xin[t], b.pre_shape[0], b.kernel, b.stride, b.padding) for t in range(T))
        dense_ops += sum(brute_conv_ops(np.ones_like(xin[t]), b.pre_shape[0], b.kernel, b.stride, b.padding)
                         for t in range(T))
        acs, macs = (acs + ops, macs) if binary else (acs, macs + ops)
        spikes += r.o.astype(np.float64).sum() / B
    z = records[-1].z.reshape(T, B, -1).astype(np.float64)
    ro = np.count_nonzero(z) * net.classes / B
    binary = bool(np.isin(z, (0, 1)).all())
    acs, macs = (acs + ro, macs) if binary else (acs, macs + ro)
    dense_ops += z.shape[2] * net.classes * T
    neurons = sum(np.prod(r.o.shape[2:]) for r in records) * T
    return acs, macs, dense_ops, 1 - spikes / neurons


def test_effective_ops_dense_and_sparsity_equal_loops(measured):
    wl, net, w, x, prof, pool_kind = measured
    got = {m.name: m.value for m in neurobench_metrics(net, prof)}
    acs, macs, dense_ops, sparsity = brute(net, w, x, pool_kind)
    assert got["Effective_ACs"] == pytest.approx(acs, rel=1e-12)
    assert got["Effective_MACs"] == pytest.approx(macs, rel=1e-12, abs=1e-9)
    assert got["Dense"] == dense_ops
    assert got["ActivationSparsity"] == pytest.approx(sparsity, rel=1e-12)
    assert (macs > 0) == (pool_kind == "avg")  # an average pool feeds c2 fractions of spikes: MACs
    assert 0 < got["Effective_ACs"] + got["Effective_MACs"] < got["Dense"]
    params = sum(a.size for a in w.values())
    assert got["ParameterCount"] == params and got["Footprint"] == 4 * params
    assert got["MembraneUpdates"] is not None and got["MembraneUpdates"] <= sum(b.N_pre for b in net.blocks) * T


def test_effective_ops_are_the_ledgers_forward_synaptic_ops(measured):
    wl, net, w, x, prof, _ = measured
    got = {m.name: m.value for m in neurobench_metrics(net, prof)}
    ledger = run(wl, engine="analytical", activity=prof).ledger
    fwd = ledger[(ledger.convention == "full") & (ledger.unit == "pe") & (ledger.term == "forward synaptic ops")]
    for rule, ops in fwd.groupby("rule")["count"].sum().items():
        assert ops == pytest.approx(got["Effective_ACs"] + got["Effective_MACs"], rel=1e-12), rule


def test_dense_profile_and_rates():
    wl = workload_from_dict(two_block("max"))
    net = build_network(wl)
    got = {m.name: m.value for m in neurobench_metrics(net, dense(net))}
    assert got["Effective_ACs"] == got["Dense"] and got["Effective_MACs"] == 0 and got["ActivationSparsity"] == 0
    assert got["MembraneUpdates"] == sum(b.N_pre for b in net.blocks) * T


def test_run_writes_neurobench_csv_and_prints_the_names(tmp_path):
    wl_path = tmp_path / "nb.yaml"
    import yaml
    d = two_block("avg")
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "D.npz", x=(rng.random((T, 2, 2, 8, 8)) < 0.4).astype(np.float32), labels=np.array([0, 3]))
    d["activity"] = {"source": "measured", "samples": 2, "data": "D.npz"}
    wl_path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(main, ["run", str(wl_path), "--engine", "analytical", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    line = next(s for s in res.output.splitlines() if s.startswith("NeuroBench"))
    for name in ("Effective_ACs", "Effective_MACs", "Dense", "ActivationSparsity", "MembraneUpdates", "Footprint"):
        assert name in line
    table = pd.read_csv(tmp_path / "o" / "neurobench.csv")
    assert sorted(table["rule"].unique()) == ["bptt", "stllr", "tess"]
    one = table[table.rule == "tess"].set_index("metric")["value"]
    assert one["Effective_MACs"] > 0 and np.isfinite(one["MembraneUpdates"])
    assert "NeuroBench metrics" in (tmp_path / "o" / "report.md").read_text()


def _csv(tmp_path, header, rows):
    p = tmp_path / "a.csv"
    p.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n")
    return p


def test_activity_csv_accepts_neurobench_names(tmp_path):
    wl = workload_from_dict(two_block("max"))
    net = build_network(wl)
    c1, c2 = net.blocks
    rows = [["input", t, "", "", "", 0.5] for t in range(T)]
    rows += [["c1", t, c1.S, 100, 7, 0.75] for t in range(T)] + [["c2", t, c2.S, 40, 5, 0.9] for t in range(T)]
    p = _csv(tmp_path, ["layer", "step", "Dense", "Effective_ACs", "MembraneUpdates", "ActivationSparsity"], rows)
    got = read_activity_csv(p, net)
    np.testing.assert_array_equal(got["c1"].syn_ops, 100)
    np.testing.assert_array_equal(got["c2"].membrane_updates, 5)
    np.testing.assert_allclose(got["c1"].out_spikes, 0.25 * c1.N_pre)
    np.testing.assert_allclose(got["c1"].in_events, 0.5 * c1.N_in)  # the input row's sparsity: its events


@pytest.mark.parametrize("header, row, field, reason", [
    (["layer", "step", "spikes", "synops", "Effective_ACs"], ["c1", 0, 1, 1, 1], "Effective_ACs", "a second column"),
    (["layer", "step", "spikes", "ActivationSparsity"], ["c1", 0, 1, 0.5], "ActivationSparsity", "not both"),
    (["layer", "step", "ActivationSparsity"], ["c1", 0, 1.5], "row 2.ActivationSparsity", "fraction in 0..1"),
    (["layer", "step", "spikes", "Dense"], ["c1", 0, 1, 12], "row 2.Dense", "another network"),
])
def test_bad_neurobench_columns(tmp_path, header, row, field, reason):
    from tess_sim.simulator.errors import UserError

    net = build_network(workload_from_dict(two_block("max")))
    with pytest.raises(UserError) as e:
        read_activity_csv(_csv(tmp_path, header, [row]), net)
    assert e.value.field == field and reason in e.value.reason


def test_a_dense_rerun_replaces_a_measured_runs_files(tmp_path):
    """densities.csv and energy_dense_bound.csv belong to a measured run: a dense run into the same
    folder removes them (the report would otherwise show a stale density table)."""
    import yaml

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "D.npz", x=(rng.random((T, 2, 2, 8, 8)) < 0.4).astype(np.float32), labels=np.array([0, 3]))
    d = two_block("max")
    (tmp_path / "dense.yaml").write_text(yaml.safe_dump(d))
    d["activity"] = {"source": "measured", "samples": 2, "data": "D.npz"}
    (tmp_path / "measured.yaml").write_text(yaml.safe_dump(d))
    out = tmp_path / "o"
    (out / "mine.txt").parent.mkdir()
    (out / "mine.txt").write_text("a user's file")
    for name, files in (("measured", True), ("dense", False)):
        res = CliRunner().invoke(main, ["run", str(tmp_path / f"{name}.yaml"), "--engine", "analytical",
                                        "--out", str(out), "--no-plot"])
        assert res.exit_code == 0, res.output
        assert (out / "densities.csv").exists() is files and (out / "energy_dense_bound.csv").exists() is files
        assert (out / "neurobench.csv").exists() and (out / "mine.txt").exists()
    assert "Spike rates and learning-operand densities" not in (out / "report.md").read_text()
