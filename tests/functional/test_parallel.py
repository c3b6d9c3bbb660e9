"""The threaded parts of the engine (simulator/functional/parallel.py) give the one-thread
results bit for bit, on the compiled kernels and on the numpy path: every element is computed
by the same operations whichever thread runs it."""

import numpy as np
import pytest

from tess_sim.simulator.functional import kernels, parallel
from tess_sim.simulator.functional.network import init_weights
from tess_sim.simulator.functional.rules import RuleParams, gradients
from tests.functional.nets import conv, net_of, pool, readout


def _net():
    return net_of((2, 8, 8), [conv("c1", 5), pool("max", 2), conv("c2", 6, bias=True), conv("c3", 4),
                              pool("adaptive_avg", 1), readout()],
                  classes=3, standardisation="scaled")


@pytest.mark.parametrize("path", ["compiled", "numpy"])
@pytest.mark.parametrize("rule", ["bptt", "stllr", "tess"])
def test_split_equals_one_thread(rule, path, monkeypatch):
    if path == "numpy":
        monkeypatch.setenv("TESS_SIM_KERNELS", "numpy")
    else:
        assert kernels.built()
    net = _net()
    w = init_weights(net, 1, np.float32, negative_slope=0.0)
    x = (np.random.default_rng(2).random((6, 3, 2, 8, 8)) < 0.4).astype(np.float32)
    labels = np.array([0, 2, 1])
    params = RuleParams(window=4, lsg_pool=(2, 1, 1))
    monkeypatch.setattr(parallel, "MIN_PART", 1 << 40)
    g1, i1 = gradients(net, rule, params, w, x, labels, np.float32, trace=True)
    monkeypatch.setattr(parallel, "MIN_PART", 1)
    assert len(parallel.parts(100)) == min(parallel.workers(), 100)
    g2, i2 = gradients(net, rule, params, w, x, labels, np.float32, trace=True)
    assert g1.keys() == g2.keys() and i1.keys() == i2.keys()
    for k in g1:
        np.testing.assert_array_equal(g1[k], g2[k], err_msg=k)
    for k in i1:
        np.testing.assert_array_equal(i1[k], i2[k], err_msg=k)
    assert float(np.abs(g1["c2"]).sum()) > 0  # the rule trained the middle block


def test_step_columns_align_elements_or_refuse():
    a = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 4, 5, 3).transpose(0, 3, 1, 2)  # stored [T, H, W, C]
    b = np.ascontiguousarray(a)  # same values, stored [T, C, H, W]
    assert parallel.step_columns(a, b) is None
    c = np.empty_like(a)  # numpy keeps a's layout
    c[...] = a * 2
    ca, cc = parallel.step_columns(a, c)
    assert ca.shape == (2, 60)
    np.testing.assert_array_equal(cc, 2 * ca)  # column j is the same element in both
    assert np.shares_memory(ca, a)
