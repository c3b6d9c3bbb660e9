"""What weight standardisation adds to the ledger (simulator/rules/standardise.py), derived a
second way: a scalar implementation of the documented algorithm (one Python operation per
element, every buffer access and op counted as it happens) that also computes W_eff, dL/dW and
dL/dgain, checked against the functional engine, so the counted algorithm is the real one.
Everything else in the ledger is the unstandardised run's, except the optimizer's extra gains."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from tess_sim.api import load, run
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.functional.standardise import WS_EPS, standardise, standardise_grad
from tess_sim.simulator.network import build_network
from tess_sim.simulator.rules.program import ADAM_OPS
from tess_sim.simulator.rules.standardise import BACKWARD, FORWARD, GAINS, STANDARDISED, STATISTICS

from .conftest import WORKLOADS


def brute(w: np.ndarray, gain: np.ndarray, G: np.ndarray, gamma: float = 1.0):
    """The documented algorithm, one scalar op at a time: (W_eff, dW, dgain, counts per
    (term, what)). ``w``, ``G`` [C_out, n]."""
    K, n = w.shape
    c = Counter()
    dW, dgain, eff = np.zeros_like(w), np.zeros(K), np.zeros_like(w)
    stats = [(float(np.mean(r)), math.sqrt(np.var(r, ddof=1) * n + WS_EPS)) for r in w]  # the last forward's
    for k in range(K):  # backward, at the current W (before the optimizer step)
        mean, s = stats[k]  # kept by the last renormalisation
        c[BACKWARD, "read stats"] += 2
        wc = []
        for i in range(n):
            c[BACKWARD, "read W"] += 1
            wc.append(w[k, i] - mean)
            c[BACKWARD, "add"] += 1
        g = []
        for i in range(n):
            c[BACKWARD, "read G"] += 1
            g.append(G[k, i])
        acc_gain, acc_hw, H = 0.0, 0.0, []
        for i in range(n):
            acc_gain += g[i] * wc[i] / s
            c[BACKWARD, "mac"] += 1
        dgain[k] = gamma * acc_gain
        c[BACKWARD, "mul"] += 1
        for i in range(n):
            H.append(gamma * gain[k] * g[i])
            c[BACKWARD, "mul"] += 1
        for i in range(n):
            acc_hw += H[i] * wc[i]
            c[BACKWARD, "mac"] += 1
        coef = acc_hw * n / ((n - 1) * s ** 3)
        c[BACKWARD, "mul"] += 1
        dwc = []
        for i in range(n):
            q = H[i] / s
            c[BACKWARD, "mul"] += 1
            dwc.append(q - wc[i] * coef)
            c[BACKWARD, "mac"] += 1
        mean_d = 0.0
        for v in dwc:
            mean_d += v
            c[BACKWARD, "add"] += 1
        mean_d /= n
        for i in range(n):
            dW[k, i] = dwc[i] - mean_d
            c[BACKWARD, "add"] += 1
            c[BACKWARD, "write G"] += 1
        c[BACKWARD, "write G"] += 1  # dL/dgain[k]
    for k in range(K):  # forward: three passes over W
        mean = 0.0
        for i in range(n):
            c[FORWARD, "read W"] += 1
            mean += w[k, i]
            c[FORWARD, "add"] += 1
        mean /= n
        ss = 0.0
        for i in range(n):
            c[FORWARD, "read W"] += 1
            d = w[k, i] - mean
            c[FORWARD, "add"] += 1
            ss += d * d
            c[FORWARD, "mac"] += 1
        var_n = ss / (n - 1) * n
        c[FORWARD, "mul"] += 1
        s = math.sqrt(var_n + WS_EPS)
        c[FORWARD, "add"] += 1
        c[FORWARD, "sqrt"] += 1
        c[FORWARD, "read gain"] += 1
        scale = gamma * gain[k] / s
        c[FORWARD, "div"] += 1
        c[FORWARD, "mul"] += 1
        c[FORWARD, "write stats"] += 2
        for i in range(n):
            c[FORWARD, "read W"] += 1
            d = w[k, i] - mean
            c[FORWARD, "add"] += 1
            eff[k, i] = d * scale
            c[FORWARD, "mul"] += 1
            c[FORWARD, "write W_eff"] += 1
    return eff, dW, dgain, c


def test_the_counted_algorithm_computes_the_standardisation():
    rng = np.random.default_rng(0)
    w, G = rng.standard_normal((3, 8)), rng.standard_normal((3, 8))
    gain = rng.uniform(0.5, 1.5, 3)
    eff, dW, dg, _ = brute(w, gain, G, 2.0)
    e2, cache = standardise(w, gain, 2.0)
    dW2, dg2 = standardise_grad(G, cache)
    np.testing.assert_allclose(eff, e2, rtol=1e-12)
    np.testing.assert_allclose(dW, dW2, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(dg, dg2, rtol=1e-12)


def _ledger(sets: dict):
    wl = load(WORKLOADS / "small.yaml", None, sets)
    led = run(wl, engine="analytical").ledger
    return wl, build_network(wl), led[led["convention"] == "full"]


def test_ledger_rows_equal_the_brute_force_counts():
    wl, net, led = _ledger({"network.weight_standardisation": "scaled"})
    batch = wl.input.batch
    rng = np.random.default_rng(1)
    for b in net.blocks:
        K = b.pre_shape[0]
        n = b.weights // K
        _, _, _, c = brute(rng.standard_normal((K, n)), np.ones(K), rng.standard_normal((K, n)))
        for rule in ("bptt", "stllr", "tess"):
            rows = led[(led["rule"] == rule) & (led["layer"] == b.name)]
            ops = rows[(rows["unit"] == "pe") & rows["term"].isin([BACKWARD, FORWARD])]
            got = {(t, a): float(v) * batch for (t, a), v in ops.groupby(["term", "action"])["count"].sum().items()}
            want = {(t, a): float(v) for (t, a), v in c.items() if a in ("add", "mac", "mul", "sqrt", "div")}
            assert got == pytest.approx(want, rel=1e-12), (rule, b.name)

            def acc(term, unit, action, prec):
                sel = rows[(rows["term"] == term) & (rows["unit"] == unit) & (rows["action"] == action)
                           & (rows["bits"] == wl.hardware.precision.bits(prec))]
                return float(sel["count"].sum()) * batch

            assert acc(BACKWARD, "gradients", "read", "gradient") == c[BACKWARD, "read G"]
            assert acc(BACKWARD, "weights", "read", "weight") == c[BACKWARD, "read W"]
            assert acc(BACKWARD, "weights", "read", "gradient") == c[BACKWARD, "read stats"]
            assert acc(FORWARD, "weights", "write", "gradient") == c[FORWARD, "write stats"]
            assert acc(BACKWARD, "gradients", "write", "gradient") == c[BACKWARD, "write G"]
            assert acc(FORWARD, "weights", "read", "weight") == c[FORWARD, "read W"]
            assert acc(FORWARD, "weights", "read", "gradient") == c[FORWARD, "read gain"]
            assert acc(FORWARD, "weights", "write", "weight") == c[FORWARD, "write W_eff"]


def test_the_buffers_and_the_optimizer_hold_the_gains():
    wl, net, ws = _ledger({"network.weight_standardisation": "scaled"})
    _, _, plain = _ledger({})
    held = ws[ws["action"] == "hold"]
    for b in net.blocks:
        K, P = b.pre_shape[0], b.weights
        assert K * P > 0
        rows = held[(held["rule"] == "tess") & (held["layer"] == b.name)]
        assert float(rows[rows["term"] == STANDARDISED]["count"].sum()) == P
        assert float(rows[rows["term"] == GAINS]["count"].sum()) == K
        assert float(rows[rows["term"] == STATISTICS]["count"].sum()) == 2 * K
        base = plain[(plain["rule"] == "tess") & (plain["layer"] == b.name) & (plain["action"] == "hold")]
        for unit, extra in (("gradients", K), ("optimizer", 2 * K)):
            assert float(rows[rows["unit"] == unit]["count"].sum()) == float(base[base["unit"] == unit]["count"].sum()) + extra
        adam = lambda d: d[(d["rule"] == "tess") & (d["layer"] == b.name) & (d["unit"] == "pe")  # noqa: E731
                           & (d["term"] == "Adam update")]["count"].sum()
        assert float(adam(ws) - adam(plain)) * wl.input.batch == pytest.approx(sum(ADAM_OPS.values()) * K)
    # every row outside the update phase and the holds is the unstandardised run's
    key = ["rule", "layer", "phase", "unit", "action", "bits", "term"]
    a = ws[(ws["phase"] != "update") & (ws["action"] != "hold")].set_index(key)["count"].sort_index()
    p = plain[(plain["phase"] != "update") & (plain["action"] != "hold")].set_index(key)["count"].sort_index()
    assert a.index.equals(p.index) and np.array_equal(a.to_numpy(), p.to_numpy())


def test_per_step_updates_are_refused_with_standardisation():
    with pytest.raises(UserError, match=r"rules\.tess\.update: per_step is not legal with weight standardisation"):
        load(WORKLOADS / "small.yaml", None, {"network.weight_standardisation": "scaled", "rules.tess.update": "per_step"})
