import numpy as np

from tess_sim.simulator.functional.data import load_digits_spikes
from tess_sim.simulator.functional.network import init_weights
from tess_sim.simulator.functional.optim import SGD, Adam
from tess_sim.simulator.functional.rules import RuleParams
from tess_sim.simulator.functional.train import train
from tess_sim.simulator.network import build_network
from tess_sim.simulator.workload import load_workload

from tests.conftest import WORKLOADS


def test_digits_split_and_encoding():
    d = load_digits_spikes(T=8)
    assert len(d.y_train) == 1347 and len(d.y_test) == 450
    x = d.test_spikes()
    assert x.shape == (8, 450, 64) and set(np.unique(x)) <= {0.0, 1.0}
    # Bernoulli rate: the mean spike count over steps approaches pixel/16
    assert abs(x.mean() - d.x_test.mean()) < 0.01
    np.testing.assert_array_equal(x, d.test_spikes())  # deterministic


def test_short_training_tess_learns_and_beats_frozen_control():
    d = load_digits_spikes(T=8)
    net = build_network(load_workload(WORKLOADS / "digits.yaml"))  # 64 -> LIF 128 -> LIF 128 -> 10
    assert [b.weight_shape for b in net.layers] == [(128, 64), (128, 128), (10, 128)]
    tess = train(net, "tess", RuleParams(), d, epochs=4, batch=32, lr=3e-3, seed=0)
    ctl = train(net, "readout", RuleParams(), d, epochs=4, batch=32, lr=3e-3, seed=0)
    assert tess.test_acc[-1] >= 0.7
    assert tess.test_acc[-1] >= ctl.test_acc[-1] + 0.1
    # the control really kept the hidden layers at their initial values
    w0 = init_weights(net, 0)
    np.testing.assert_array_equal(ctl.weights["fc1"], w0["fc1"])
    assert not np.array_equal(tess.weights["fc1"], w0["fc1"])


def test_optimisers_closed_form():
    w = {"a": np.array([1.0, -2.0])}
    g = {"a": np.array([0.5, 0.5])}
    SGD(["a"], 0.1).step(w, g)
    np.testing.assert_allclose(w["a"], [0.95, -2.05])
    w = {"a": np.array([1.0, -2.0])}
    opt = Adam(["a"], 0.01)
    opt.step(w, {"a": np.array([0.5, -4.0])})  # first Adam step moves by lr * sign(g)
    np.testing.assert_allclose(w["a"], [0.99, -1.99], rtol=1e-6)
