"""Optional cross-check of simulator/neurobench.py against the real NeuroBench harness (skipped
unless torch, snntorch and neurobench are installed; they are not in the test extra: see
docs/neurobench.md for the venv it was run in).

The two-block networks of tests/test_neurobench.py (conv -> max / average pool -> conv(bias) ->
max pool -> readout) are rebuilt in snnTorch with our weights, wrapped in NeuroBench's
``SNNTorchModel`` and run through its ``Benchmark`` with ``SynapticOperations``,
``ActivationSparsity``, ``MembraneUpdates``, ``Footprint`` and ``ParameterCount`` on the inputs
our profile was measured on. The spikes and post-reset membranes of the snnTorch model are
first checked against our functional forward, then each metric against ours, equal or in the
exact relation docs/neurobench.md states.

snnTorch's ``Leaky`` cannot be set to our LIF (docs/math.md §1) on these inputs: with
``reset_delay=False`` it computes ``reset = H(mem[t-1] - theta)`` from the stored post-reset
membrane, subtracts it before the threshold test and adds it back after; a neuron whose
post-reset membrane is above theta (u > 2 theta, which these weights reach) is tested in the
next step at u - theta, so it misses spikes that ours fires (with beta = 1 and no input it never
fires again). ``ExactLeaky`` only drops that stale reset
(``mem_reset`` returns 0), which leaves Leaky's own same-step subtract reset: ours exactly.
``test_stock_leaky`` pins where the stock neuron agrees and where it does not.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
pytest.importorskip("neurobench")

from neurobench.benchmarks import Benchmark  # noqa: E402
from neurobench.metrics.static import Footprint, ParameterCount  # noqa: E402
from neurobench.metrics.workload import ActivationSparsity, MembraneUpdates, SynapticOperations  # noqa: E402
from neurobench.models import SNNTorchModel  # noqa: E402

from tess_sim.simulator.activity import ActivityProfile, layer_from_counts  # noqa: E402
from tess_sim.simulator.functional.activity import measure_activity  # noqa: E402
from tess_sim.simulator.functional.network import forward, init_scheme  # noqa: E402
from tess_sim.simulator.functional.neuron import lif_step  # noqa: E402
from tess_sim.simulator.functional.standardise import effective_weights  # noqa: E402
from tess_sim.simulator.network import build_network  # noqa: E402
from tess_sim.simulator.neurobench import neurobench_metrics  # noqa: E402
from tess_sim.simulator.workload import Neuron, workload_from_dict  # noqa: E402

from .test_neurobench import B, T, measured, two_block  # noqa: E402,F401  (measured: the fixture)


class ExactLeaky(snn.Leaky):
    """``snn.Leaky(reset_delay=False, reset_mechanism="subtract")`` without the stale reset of
    the previous step's stored membrane: u[t] = beta*u+[t-1] + I[t], spike u[t] > theta,
    u+[t] = u[t] - theta*spike (Leaky's own same-step reset), the membrane ``mem`` is u+."""

    def mem_reset(self, mem):
        return torch.zeros_like(mem)


def leaky(p: Neuron, cls=ExactLeaky):
    assert p.reset == "subtract" and p.v_reset in (None, p.theta)
    # snnTorch's default surrogate (ATan) has forward (mem - theta > 0): strict >, as ours
    return cls(beta=p.beta, threshold=p.theta, reset_mechanism="subtract", reset_delay=False)


class SnnTorchNet(torch.nn.Module):
    """``net`` in snnTorch, one step per call: ``x [B, *input_shape] -> (y, y)``, y the readout
    ``[B, classes]`` (SNNTorchModel unpacks two outputs). Modules are direct children named
    after the layers (``c1``, ``c1_lif``, ``c1_pool0``, ..., ``out``)."""

    def __init__(self, net, weights, neuron_cls=ExactLeaky):
        super().__init__()
        eff, _ = effective_weights(net, weights, np.float32)
        self.plan = []
        for b in net.blocks:
            if b.kind == "conv":
                conn = torch.nn.Conv2d(b.in_shape[0], b.pre_shape[0], b.kernel, b.stride, b.padding, bias=b.bias)
            else:
                conn = torch.nn.Linear(int(np.prod(b.in_shape)), b.pre_shape[0], bias=b.bias)
            self._load(conn, eff, b.name)
            setattr(self, b.name, conn)
            setattr(self, b.name + "_lif", leaky(b.neuron, neuron_cls))
            pools = []
            for j, p in enumerate(b.pools):
                assert p.kind in ("max", "avg")
                pool = torch.nn.MaxPool2d if p.kind == "max" else torch.nn.AvgPool2d
                setattr(self, f"{b.name}_pool{j}", pool(p.size))
                pools.append(f"{b.name}_pool{j}")
            self.plan.append((b.name, b.kind, pools))
        r = net.readout
        self.out = torch.nn.Linear(int(np.prod(r.in_shape)), r.pre_shape[0], bias=r.bias)
        self._load(self.out, eff, r.name)

    @staticmethod
    def _load(layer, eff, name):
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(eff[name])))
            if layer.bias is not None:
                layer.bias.copy_(torch.from_numpy(eff[name + ".bias"]))

    def lifs(self):
        return [getattr(self, name + "_lif") for name, _, _ in self.plan]

    def reset(self):
        """SNNTorchModel calls this before each batch: every membrane to zero."""
        for lif in self.lifs():
            lif.reset_mem()

    def forward(self, x):
        h = x
        for name, kind, pools in self.plan:
            if kind == "linear":
                h = h.flatten(1)
            spk, _ = getattr(self, name + "_lif")(getattr(self, name)(h))
            for p in pools:
                spk = getattr(self, p)(spk)
            h = spk
        y = self.out(h.flatten(1))
        return y, y


def record_neurons(model):
    """Forward hooks on the snnTorch neurons: per neuron layer, lists of (spikes, mem) per step."""
    got = [[] for _ in model.lifs()]

    def keep(k):
        return lambda m, i, o: got[k].append((o[0].detach().clone(), m.mem.detach().clone()))

    handles = [lif.register_forward_hook(keep(k)) for k, lif in enumerate(model.lifs())]
    return got, handles


def run_benchmark(model, x):
    """NeuroBench's Benchmark over the batch ``x [T, B, ...]`` (one DataLoader batch of B)."""
    data = torch.from_numpy(np.ascontiguousarray(x.transpose(1, 0, *range(2, x.ndim))))  # [B, T, ...]
    dataset = torch.utils.data.TensorDataset(data, torch.zeros(x.shape[1]))
    loader = torch.utils.data.DataLoader(dataset, batch_size=x.shape[1])
    wrapped = SNNTorchModel(model)
    bench = Benchmark(wrapped, loader, [], [], [[Footprint, ParameterCount],
                                                [SynapticOperations, ActivationSparsity, MembraneUpdates]])
    with torch.no_grad():
        return bench.run(quiet=True), bench, wrapped


def expected_split(net, records, prof):
    """NeuroBench's AC/MAC split of our ops: per connection layer and step, the tensor that
    layer receives (the whole batch) is ACs when all its values are 0 or ±1, else MACs; the ops
    of that step are our syn_ops (per sample)."""
    inputs = [r.x for r in records] + [records[-1].z.reshape(T, B, -1)]
    acs = macs = 0.0
    for layer, xin in zip(net.layers, inputs):
        for t in range(T):
            ops = float(prof[layer.name].syn_ops[t])
            if np.isin(xin[t], (-1, 0, 1)).all():
                acs += ops
            else:
                macs += ops
    return acs, macs


@pytest.fixture(params=["test inputs", "silent rows"])
def case(request, measured):
    """tests/test_neurobench.py's network, weights, inputs and profile; "silent rows": the same
    inputs with the top 4 image rows and step 2 zero, so that some membranes stay at 0 (a
    membrane of a neuron that got input only decays: it changes every step)."""
    wl, net, w, x, prof, pool_kind = measured
    if request.param == "silent rows":
        x = x.copy()
        x[:, :, :, :4] = 0
        x[2] = 0
        prof = ActivityProfile("measured", "m", layer_from_counts(net, measure_activity(net, w, x)))
    return net, w, x, prof, f"{pool_kind}, {request.param}"


def benchmarked(net, w, x, prof, label):
    """Our metrics of ``prof`` and NeuroBench's Benchmark of the snnTorch model on ``x``, after
    checking that the snnTorch model is our network: spikes bit for bit, post-reset membranes
    and readout to float32 rounding, and that NeuroBench hooked its neurons (not the readout)
    and its connection layers. Returns (ours, nb, bench, records, buffers): ``buffers`` those
    of the neurons before any forward (what the Benchmark's static metrics see first)."""
    ours = {m.name: m.value for m in neurobench_metrics(net, prof)}
    records, y_ours = forward(net, w, x)
    model = SnnTorchNet(net, w)
    buffers = [[(n, tuple(t.shape), t.element_size()) for n, t in lif.named_buffers()] for lif in model.lifs()]
    got, handles = record_neurons(model)
    nb, bench, wrapped = run_benchmark(model, x)
    for h in handles:
        h.remove()
    print(f"\n[{label}] ours:       " + ", ".join(f"{k} {v!r}" for k, v in ours.items()))
    print(f"[{label}] NeuroBench: " + ", ".join(f"{k} {v!r}" for k, v in nb.items()))
    for b, r, steps in zip(net.blocks, records, got):
        assert len(steps) == T
        spk = torch.stack([s for s, _ in steps]).numpy()
        mem = torch.stack([m for _, m in steps]).numpy()
        np.testing.assert_array_equal(spk, r.o, err_msg=b.name)
        np.testing.assert_allclose(mem, r.u - b.neuron.theta * r.o, rtol=0, atol=1e-5, err_msg=b.name)
    fresh = SnnTorchNet(net, w)  # not the benchmarked model: its NeuroBench hooks would record this pass
    with torch.no_grad():
        y = torch.stack([fresh(torch.from_numpy(x[t]))[0] for t in range(T)]).numpy()
    np.testing.assert_allclose(y, y_ours, rtol=1e-5, atol=1e-5)
    assert [type(h.layer) for h in wrapped.activation_hooks] == [ExactLeaky] * len(net.blocks)
    assert len(wrapped.connection_hooks) == len(net.layers)
    return ours, nb, bench, records, buffers


def test_neurobench_harness_equals_our_metrics(case):
    net, w, x, prof, label = case
    pool_kind = label.split(",")[0]
    ours, nb, bench, records, buffers = benchmarked(net, w, x, prof, label)
    assert all(r.o.any() and not r.o.all() for r in records)

    total = ours["Effective_ACs"] + ours["Effective_MACs"]
    ops = nb["SynapticOperations"]
    assert ops["Effective_ACs"] + ops["Effective_MACs"] == pytest.approx(total, rel=1e-12)
    acs, macs = expected_split(net, records, prof)  # NeuroBench's per-tensor test applied to our counts
    assert ops["Effective_ACs"] == pytest.approx(acs, rel=1e-12)
    assert ops["Effective_MACs"] == pytest.approx(macs, rel=1e-12, abs=1e-9)
    # on these inputs every step's average-pooled tensor holds a fraction: the split is ours too
    assert ops["Effective_ACs"] == pytest.approx(ours["Effective_ACs"], rel=1e-12)
    assert ops["Effective_MACs"] == pytest.approx(ours["Effective_MACs"], rel=1e-12, abs=1e-9)
    assert (ours["Effective_MACs"] > 0) == (pool_kind == "avg")
    assert ops["Dense"] == ours["Dense"]
    assert nb["ActivationSparsity"] == pytest.approx(ours["ActivationSparsity"], rel=1e-12)
    assert nb["MembraneUpdates"] == pytest.approx(ours["MembraneUpdates"], rel=1e-12)
    every = sum(b.N_pre for b in net.blocks) * T  # every neuron, every step
    assert (ours["MembraneUpdates"] < every) == ("silent" in label)
    assert nb["ParameterCount"] == ours["ParameterCount"]
    # Footprint: NeuroBench adds the buffers; before any forward each Leaky holds only scalars
    # (beta, threshold, graded_spikes_factor float32; reset_mechanism_val int64) and an empty mem
    extra = sum(int(np.prod(s)) * e for lb in buffers for _, s, e in lb)
    assert all(int(np.prod(s)) == (0 if n == "mem" else 1) for lb in buffers for n, s, _ in lb)
    assert nb["Footprint"] == ours["Footprint"] + extra and extra == 20 * len(net.blocks), buffers

    # a second run of the same Benchmark: the static Footprint now also counts each Leaky's
    # membrane buffer, left [B, *neurons] float32 by the first run (reset zeroes it, keeps it)
    again = bench.run(quiet=True)
    assert again["Footprint"] == nb["Footprint"] + 4 * B * sum(b.N_pre for b in net.blocks)
    for k in ("SynapticOperations", "ActivationSparsity", "MembraneUpdates", "ParameterCount"):
        assert again[k] == nb[k], k


def test_stock_leaky():
    """snn.Leaky(reset_delay=False) itself: our lif_step while no post-reset membrane exceeds
    theta; after one that does, it differs (why ExactLeaky is needed on the networks above)."""
    p = Neuron(beta=0.5, theta=0.6, reset="subtract")
    rng = np.random.default_rng(0)

    def both(current):
        stock, state = leaky(p, snn.Leaky), np.zeros(current.shape[1:], np.float32)
        out = []
        for t in range(current.shape[0]):
            s, m = stock(torch.from_numpy(current[t]))
            o, _, state = lif_step(state, current[t], p)
            out.append((s.numpy(), o, m.numpy(), state))
        return out

    bounded = rng.uniform(-0.5, 0.9, (20, 500)).astype(np.float32)  # u < 2 theta: u+ <= theta
    for s, o, m, state in both(bounded):
        np.testing.assert_array_equal(s, o)
        np.testing.assert_allclose(m, state, rtol=0, atol=1e-6)
    kick = np.zeros((4, 1), np.float32)
    kick[0], kick[1] = 2.5 * p.theta, 0.5 * p.theta  # u+[0] = 1.5 theta; u[1] = 0.75 + 0.5 theta
    (s0, o0, m0, u0), (s1, o1, m1, u1), *_ = both(kick)
    assert s0 == o0 == 1 and m0 == u0 == np.float32(2.5 * p.theta) - np.float32(p.theta)
    # ours fires at u[1] = 1.25 theta; stock Leaky subtracts its stale reset first, tests
    # 0.25 theta, does not fire, and adds the reset back: the same membrane, no spike
    assert o1 == 1 and s1 == 0
    assert m1 == pytest.approx(1.25 * p.theta, rel=1e-6) and u1 == pytest.approx(0.25 * p.theta, rel=1e-5)


def test_an_averaged_tensor_of_ones_is_acs_for_neurobench():
    """The documented split difference: all-ones input through positive c1 weights makes every
    c1 neuron spike, so the average pool passes a tensor of ones; NeuroBench tests the values and
    counts c2's ops of those steps as ACs, we count every c2 op as MACs; the sum is the same."""
    wl = workload_from_dict(two_block("avg"))
    net = build_network(wl)
    w = {k: v * 2.5 for k, v in init_scheme(net, 1, wl.training.init).items()}
    w["c1"] = np.abs(w["c1"]) * 4
    x = np.ones((T, B, 2, 8, 8), np.float32)
    prof = ActivityProfile("measured", "m", layer_from_counts(net, measure_activity(net, w, x)))
    ours, nb, _, records, _ = benchmarked(net, w, x, prof, "avg, all-ones input")
    ones = [t for t in range(T) if np.isin(records[1].x[t], (0, 1)).all()]
    assert ones  # steps whose pooled tensor holds only ones (here all four)
    got = nb["SynapticOperations"]
    acs, macs = expected_split(net, records, prof)
    assert got["Effective_ACs"] == pytest.approx(acs, rel=1e-12)
    assert got["Effective_MACs"] == pytest.approx(macs, rel=1e-12)
    c2 = float(prof["c2"].syn_ops[ones].sum())
    assert got["Effective_ACs"] == pytest.approx(ours["Effective_ACs"] + c2, rel=1e-12)
    assert got["Effective_MACs"] == pytest.approx(ours["Effective_MACs"] - c2, rel=1e-12, abs=1e-9)
    total = ours["Effective_ACs"] + ours["Effective_MACs"]
    assert got["Effective_ACs"] + got["Effective_MACs"] == pytest.approx(total, rel=1e-12)
