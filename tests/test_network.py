"""Network shapes: F, border-exact S and fan-out against brute force on tiny layers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.network import build_network
from tess_sim.api import from_dict

from .brute import conv_pairs


def _conv_workload(c_in, h, w, c_out, k, s, p):
    return from_dict({
        "name": "t", "input": {"shape": [c_in, h, w], "T": 1, "classes": 2},
        "network": {"layers": [{"type": "conv", "out_channels": c_out, "kernel": k, "stride": s,
                                "padding": p}, {"type": "readout"}]},
        "rules": {"bptt": {}}})


@settings(max_examples=40, deadline=None)
@given(c_in=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7), c_out=st.integers(1, 3),
       k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2))
def test_conv_counts_match_brute_force(c_in, h, w, c_out, k, s, p):
    if k > h + 2 * p or k > w + 2 * p:
        with pytest.raises(UserError, match="kernel"):
            _conv_workload(c_in, h, w, c_out, k, s, p)
        return
    b = build_network(_conv_workload(c_in, h, w, c_out, k, s, p)).blocks[0]
    pairs, out = conv_pairs(c_in, h, w, c_out, k, s, p)
    assert b.pre_shape == out
    assert b.F == len(pairs)                      # padding included
    fan = np.zeros((c_in, h, w), dtype=np.int64)  # border-exact fan-out, by enumeration
    for inp, _ in pairs:
        if inp is not None:
            fan[inp] += 1
    assert np.array_equal(b.fanout(), fan)
    assert b.S == fan.sum() <= b.F
    assert b.fan_in == c_in * k * k


def test_linear_and_readout_counts():
    wl = from_dict({
        "name": "t", "input": {"shape": [3, 4, 4], "T": 2, "classes": 5},
        "network": {"layers": [{"type": "conv", "out_channels": 2}, {"type": "maxpool", "kernel": 2},
                               {"type": "linear", "out_features": 7}, {"type": "readout", "in_features": 7}]},
        "rules": {"bptt": {}}})
    net = build_network(wl)
    lin = net.blocks[1]
    assert (lin.N_in, lin.N_pre, lin.F, lin.S) == (2 * 2 * 2, 7, 8 * 7, 8 * 7)
    assert np.array_equal(lin.fanout(), np.full(8, 7))
    assert net.readout.N_in == 7 and net.readout.params == 7 * 5 + 5
    assert net.blocks[0].post_shape == (2, 2, 2)


@pytest.mark.parametrize("layers,match", [
    ([{"type": "conv", "out_channels": 2}, {"type": "maxpool", "kernel": 2}, {"type": "readout"}], "cannot be pooled"),
    ([{"type": "conv", "out_channels": 2, "kernel": 9, "padding": 1}, {"type": "readout"}], "larger than the padded"),
    ([{"type": "conv", "out_channels": 2}, {"type": "readout", "in_features": 3}], "in_features"),
    ([{"type": "maxpool"}, {"type": "conv", "out_channels": 2}, {"type": "readout"}], "must follow"),
    ([{"type": "conv", "out_channels": 2}], "must end with a 'readout'"),
    ([{"type": "conv", "out_channels": 2}, {"type": "readout"}, {"type": "conv", "out_channels": 2}], "last layer"),
    ([{"type": "linear", "out_features": 4}, {"type": "conv", "out_channels": 2}, {"type": "readout"}], "needs a \\(C, H, W\\)"),
    ([{"type": "conv", "out_channels": 2, "name": "a"}, {"type": "conv", "out_channels": 2, "name": "a"}, {"type": "readout"}], "duplicate"),
])
def test_impossible_shapes_name_the_layer(layers, match):
    with pytest.raises(UserError, match=match) as err:
        from_dict({"name": "t", "input": {"shape": [1, 5, 5], "T": 1, "classes": 2},
                            "network": {"layers": layers}, "rules": {"bptt": {}}}, "w.yaml")
    assert err.value.line().startswith("w.yaml: network.layers")


def test_default_names_are_stable():
    wl = from_dict({
        "name": "t", "input": {"shape": [1, 8, 8], "T": 1, "classes": 2},
        "network": {"layers": [{"type": "conv", "out_channels": 2}, {"type": "maxpool"},
                               {"type": "conv", "out_channels": 2}, {"type": "global_avgpool"},
                               {"type": "linear", "out_features": 3}, {"type": "readout"}]},
        "rules": {"bptt": {}}})
    net = build_network(wl)
    assert net.layer_names == ("conv1", "maxpool1", "conv2", "global_avgpool1", "linear1", "readout")
    assert [p.name for p in net.blocks[0].pools] == ["maxpool1"]


def test_width_multiplier_scales_channels(small_dict):
    small_dict["network"]["width_multiplier"] = 2.0
    net = build_network(from_dict(small_dict))
    assert [b.pre_shape[0] for b in net.blocks] == [8, 16, 32]
    assert net.readout.pre_shape == (4,)
