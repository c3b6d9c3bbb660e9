import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.functional.activity import measure_activity
from tess_sim.simulator.functional.golden import load_data, load_weights, save_npz_atomic
from tess_sim.simulator.functional.network import forward, forward_online, init_weights, weight_shapes
from tests.functional.nets import conv, linear, net_of, pool as pool_layer, readout


def net_for(k, s, p, h, pool):
    """conv c1 (3 channels, k, s, p) [+ a 2×2 pool] -> linear f1 (4) -> readout out (3)."""
    layers = [conv("c1", 3, k=k, s=s, p=p)] + ([pool_layer(pool, 2)] if pool else [])
    return net_of((2, h, h), layers + [linear("f1", 4), readout()], classes=3)


def fits(k, s, p, h, pool) -> bool:
    """Whether the layer list has a valid shape (the network refuses the others), by hand."""
    ho = (h + 2 * p - k) // s + 1
    return ho >= 1 and (pool is None or ho % 2 == 0)


def brute_syn_ops(x, block):
    """Loop over every non-zero input element and every output neuron it reaches."""
    T, B = x.shape[:2]
    out = np.zeros(T)
    _, H, W = block.in_shape
    k, s, p = block.kernel, block.stride, block.padding
    ho_n, wo_n = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    for t, b, c, h, w in zip(*np.nonzero(x)):
        n = 0
        for ho in range(ho_n):
            for wo in range(wo_n):
                if ho * s - p <= h < ho * s - p + k and wo * s - p <= w < wo * s - p + k:
                    n += block.pre_shape[0]
        out[t] += n
    return out / B


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 1000), k=st.sampled_from([1, 2, 3]), s=st.sampled_from([1, 2]),
       p=st.sampled_from([0, 1]), h=st.integers(4, 7), pool=st.sampled_from([None, "max", "avg"]),
       analog=st.booleans())
def test_syn_ops_match_brute_force(seed, k, s, p, h, pool, analog):
    assume(fits(k, s, p, h, pool))
    net = net_for(k, s, p, h, pool)
    rng = np.random.default_rng(seed)
    x = (rng.random((3, 2, 2, h, h)) < 0.3).astype(float)
    if analog:
        x = x * rng.random(x.shape) * 3
    w = init_weights(net, seed, np.float64)
    act = measure_activity(net, w, x, np.float64)
    b1 = net.blocks[0]
    np.testing.assert_allclose(act["c1"]["syn_ops"], brute_syn_ops(x, b1))
    np.testing.assert_allclose(act["c1"]["in_events"], (x != 0).sum(axis=(1, 2, 3, 4)) / 2)
    assert np.all(act["c1"]["syn_ops"] <= b1.F)
    records, _ = forward(net, w, x, np.float64)
    o, z = records[0].o, records[0].z
    np.testing.assert_allclose(act["c1"]["out_spikes"], o.sum(axis=(1, 2, 3, 4)) / 2)
    np.testing.assert_allclose(act["c1"]["post_events"], (z != 0).sum(axis=(1, 2, 3, 4)) / 2)
    zf = z.reshape(3, 2, -1)
    np.testing.assert_allclose(act["f1"]["syn_ops"], (zf != 0).sum(axis=(1, 2)) / 2 * 4)
    z2 = records[1].z
    np.testing.assert_allclose(act["out"]["syn_ops"], (z2 != 0).sum(axis=(1, 2)) / 2 * 3)


def test_all_ones_input_equals_dense_count():
    """Every input active: sum of fan-outs = dense MACs (each MAC with a real input once)."""
    net = net_for(3, 1, 0, 6, None)
    x = np.ones((1, 1, 2, 6, 6))
    act = measure_activity(net, init_weights(net, 0, np.float64), x, np.float64)
    assert act["c1"]["syn_ops"][0] == net.blocks[0].F == net.blocks[0].S == 3 * 2 * 9 * 16


def test_forward_layer_major_equals_online_step_major():
    net = net_for(3, 2, 1, 7, "max")
    w = init_weights(net, 1, np.float64)
    x = (np.random.default_rng(0).random((5, 3, 2, 7, 7)) < 0.5).astype(float)
    records, y = forward(net, w, x, np.float64)
    spikes, y2 = forward_online(net, w, x, np.float64)
    for r, s in zip(records, spikes):
        np.testing.assert_array_equal(r.o, s)
    np.testing.assert_allclose(y, y2, rtol=1e-12)


def test_load_weights_and_data_validation(tmp_path):
    net = net_for(3, 1, 1, 6, "max")
    w = init_weights(net, 0, np.float64)
    good = tmp_path / "w.npz"
    save_npz_atomic(good, w)
    back = load_weights(good, net)
    assert set(back) == set(weight_shapes(net))
    for k in w:
        np.testing.assert_array_equal(back[k], w[k])
    missing = dict(w)
    del missing["f1"]
    save_npz_atomic(tmp_path / "m.npz", missing)
    with pytest.raises(UserError) as e:
        load_weights(tmp_path / "m.npz", net)
    assert e.value.field == "f1" and "missing" in e.value.reason
    bad = dict(w, c1=np.zeros((3, 2, 2, 2)))
    save_npz_atomic(tmp_path / "s.npz", bad)
    with pytest.raises(UserError, match="shape"):
        load_weights(tmp_path / "s.npz", net)
    nan = {k: v.copy() for k, v in w.items()}
    nan["out"][0, 0] = np.nan
    save_npz_atomic(tmp_path / "n.npz", nan)
    with pytest.raises(UserError) as e:
        load_weights(tmp_path / "n.npz", net)
    assert e.value.field == "out" and "NaN" in e.value.reason
    save_npz_atomic(tmp_path / "e.npz", dict(w, extra=np.zeros(2)))
    with pytest.raises(UserError, match="unexpected"):
        load_weights(tmp_path / "e.npz", net)
    with pytest.raises(UserError, match="not found"):
        load_weights(tmp_path / "nope.npz", net)

    x = np.zeros((4, 2, 2, 6, 6))
    save_npz_atomic(tmp_path / "d.npz", {"x": x, "labels": np.array([0, 2])})
    xx, ll = load_data(tmp_path / "d.npz", net, T=4)
    assert xx.shape == x.shape and ll.tolist() == [0, 2]
    with pytest.raises(UserError, match="time steps"):
        load_data(tmp_path / "d.npz", net, T=5)
    save_npz_atomic(tmp_path / "d2.npz", {"x": x, "labels": np.array([0, 3])})
    with pytest.raises(UserError) as e:
        load_data(tmp_path / "d2.npz", net, T=4)
    assert e.value.field == "labels"
    save_npz_atomic(tmp_path / "d3.npz", {"x": x[:, :, :1], "labels": np.array([0, 1])})
    with pytest.raises(UserError) as e:
        load_data(tmp_path / "d3.npz", net)
    assert e.value.field == "x"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
