"""Per-sample results computed in memory-bounded chunks equal one pass over every sample:
measured activity and predictions (simulator/functional/network.py CHUNK_BYTES)."""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.functional import network
from tess_sim.simulator.functional.activity import measure_activity
from tess_sim.simulator.functional.network import init_weights, samples_per_chunk
from tess_sim.simulator.functional.train import predict
from tests.functional.nets import conv, net_of, pool, readout


def test_chunked_activity_and_predictions_equal_one_pass(monkeypatch):
    net = net_of((2, 8, 8), [conv("c1", 3), pool("max", 2), conv("c2", 4), readout()], classes=3)
    w = init_weights(net, 0, negative_slope=0.0)
    x = (np.random.default_rng(0).random((5, 7, 2, 8, 8)) < 0.3).astype(np.float32)
    whole, labels = measure_activity(net, w, x), predict(net, w, x)
    per_sample = 5 * 4 * sum(b.N_in + 4 * b.N_pre + b.N_post + b.N_pre // b.pre_shape[0] * 9 * b.in_shape[0]
                             for b in net.blocks)
    monkeypatch.setattr(network, "CHUNK_BYTES", 3 * per_sample)   # 3 samples a chunk: 3 + 3 + 1
    assert samples_per_chunk(net, 5) == 3
    chunked = measure_activity(net, w, x)
    assert chunked.keys() == whole.keys()
    for name in whole:
        for k in whole[name]:
            np.testing.assert_allclose(chunked[name][k], whole[name][k], rtol=1e-12)
    np.testing.assert_array_equal(predict(net, w, x), labels)
    assert sum(whole["c1"]["out_spikes"]) > 0
