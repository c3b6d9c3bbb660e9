"""Network forward pass: blocks of LIF layers with pools, then a non-spiking readout.

Evaluation order.  Within one time step, block l only needs block l-1's output *of the same
step*; across steps only the neuron state (and traces) recur, elementwise.  So the engine runs
layer-major: for each block it computes the synaptic currents of all T steps in one GEMM (time
folded into the batch, ``N = T * batch``), then steps the neuron with the pure
:func:`~simulator.functional.neuron.lif_step` over t.  This is exactly the same arithmetic as
the step-major (online, hardware) order — :func:`forward_online` runs that order with explicit
state and a test checks that the two agree.

The network is the resolved :class:`~simulator.network.Net` the counting side reads (one
description): per block ``in_shape``, ``pre_shape`` (the neurons), ``post_shape`` (after the
pools), kernel / stride / padding, ``pools``, ``neuron`` and ``bias``; the readout is
``net.readout``.  Nothing here re-derives a shape.

Arrays are time-major then batch: ``x [T, batch, *shape]``.  Weights: ``weights[name]`` (conv
``[C_out, C_in, k, k]``, linear ``[out, in]``: ``Block.weight_shape``), ``weights[name + ".bias"]``
``[out]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tess_sim.simulator.functional import conv as C
from tess_sim.simulator.functional.neuron import lif_sequence, lif_step, psi_integral
from tess_sim.simulator.functional.pool import pools_forward
from tess_sim.simulator.functional.standardise import effective_weights, gain_key
from tess_sim.simulator.network import Block, Net


def weight_shapes(net: Net) -> dict[str, tuple[int, ...]]:
    """Every trainable tensor of the net, blocks then the readout: ``name`` -> ``Block.weight_shape``,
    ``name.bias`` -> ``(out,)`` for layers with a bias, ``name.gain`` -> ``(C_out,)`` for
    weight-standardised layers (the keys of W.npz and G.npz)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for b in net.layers:
        shapes[b.name] = b.weight_shape
        if b.bias:
            shapes[b.name + ".bias"] = (b.pre_shape[0],)
        if b.standardised:
            shapes[gain_key(b.name)] = (b.pre_shape[0],)
    return shapes


def init_weights(net: Net, seed: int = 0, dtype=np.float32,
                 negative_slope: float = 5 ** 0.5, conv_mode: str = "fan_in") -> dict[str, np.ndarray]:
    """Kaiming normal, as ``torch.nn.init.kaiming_normal_(w, a=negative_slope, mode="fan_in")``:
    ``W ~ N(0, gain^2 / fan_in)``, ``gain = sqrt(2 / (1 + a^2))``, fan_in = C_in*k*k (conv) or
    in (linear, readout); biases 0; standardisation gains 1 (they draw nothing).

    Default a = sqrt(5): std = 1/sqrt(3*fan_in), the same scale as PyTorch's default conv/linear
    initialisation (kaiming_uniform_ with a = sqrt(5)), which is what a PyTorch model that does
    not re-initialise gets.  ``negative_slope=0`` gives He's sqrt(2/fan_in) (about 2.4x larger;
    with it, random hidden spike features are strong enough that a readout-only control reaches
    ~0.85 on digits).  Draws in the order of :func:`weight_shapes` from
    ``numpy.random.default_rng(seed)``. ``conv_mode="fan_out"`` scales conv kernels by
    fan_out = C_out·k·k instead (the TESS reference code's ``mode='fan_out'``)."""
    rng = np.random.default_rng(seed)
    gain = np.sqrt(2.0 / (1.0 + negative_slope ** 2))
    out = {}
    for name, shape in weight_shapes(net).items():
        if name.endswith(".bias"):
            out[name] = np.zeros(shape, dtype=dtype)
        elif name.endswith(".gain"):
            out[name] = np.ones(shape, dtype=dtype)
        else:
            fan = int(np.prod(shape[1:]))
            if conv_mode == "fan_out" and len(shape) == 4:
                fan = int(shape[0] * shape[2] * shape[3])
            out[name] = (rng.standard_normal(shape) * (gain / np.sqrt(fan))).astype(dtype)
    return out


INIT_SCHEMES = ("paper", "torch_default")


def init_scheme(net: Net, seed: int, scheme: str, dtype=np.float32) -> dict[str, np.ndarray]:
    """Named initialisations. ``paper``: the TESS reference code — conv kernels
    ``kaiming_normal_(mode='fan_out', nonlinearity='relu')`` (std sqrt(2 / (C_out·k²))),
    linear and readout ``kaiming_normal_()`` (std sqrt(2 / fan_in)), biases 0.
    ``torch_default``: std 1/sqrt(3·fan_in), the scale of PyTorch's default layer init."""
    if scheme == "paper":
        return init_weights(net, seed, dtype, negative_slope=0.0, conv_mode="fan_out")
    if scheme == "torch_default":
        return init_weights(net, seed, dtype)
    raise ValueError(f"unknown init scheme {scheme!r}")


def _fold(a: np.ndarray) -> np.ndarray:
    return a.reshape((a.shape[0] * a.shape[1],) + a.shape[2:])


def _unfold(a: np.ndarray, t: int) -> np.ndarray:
    return a.reshape((t, a.shape[0] // t) + a.shape[1:])


def block_current(block: Block, w: np.ndarray, bias: np.ndarray | None, x: np.ndarray,
                  cols: np.ndarray | None = None) -> np.ndarray:
    """Synaptic current I for all steps: ``x [T, B, *in_shape] -> [T, B, *neuron_shape]``."""
    t = x.shape[0]
    if block.kind == "conv":
        i = C.conv2d(_fold(x), w, block.stride, block.padding, bias, cols=cols)
    else:
        i = C.linear(_fold(x), w, bias)
    return _unfold(i, t)


def block_corr(block: Block, x: np.ndarray, e: np.ndarray,
               cols: np.ndarray | None = None) -> np.ndarray:
    """corr(x, e) summed over steps and batch: ``x [T,B,*in]``, ``e [T,B,*neuron]`` -> dW."""
    if block.kind == "conv":
        return C.conv2d_weight_grad(_fold(x), _fold(e), block.kernel, block.stride,
                                    block.padding, cols=cols)
    return C.linear_weight_grad(_fold(x), _fold(e))


def block_transpose(block: Block, w: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Error at the neuron currents -> error at the block input: ``[T,B,*neuron] -> [T,B,*in]``."""
    t = e.shape[0]
    if block.kind == "conv":
        d = C.conv2d_transpose(_fold(e), w, block.in_shape[1:], block.stride, block.padding)
    else:
        d = C.linear_transpose(_fold(e), w)
    return _unfold(d, t)


def block_cols(block: Block, x: np.ndarray) -> np.ndarray | None:
    """im2col of a conv block input over all steps (None for linear blocks)."""
    if block.kind != "conv":
        return None
    return C.im2col(_fold(x), block.kernel, block.stride, block.padding)[0]


@dataclass
class BlockRecord:
    """What the forward pass keeps for one block, all ``[T, B, ...]``.

    ``x`` input, ``u`` pre-reset membrane, ``o`` Heaviside spikes (pre-pool), ``s`` emitted
    spikes (= o unless smooth_forward), ``psi`` surrogate, ``z`` output after pools,
    ``pool_caches`` for the pool backward, ``cols`` im2col of x (conv, if kept), ``fired``
    the pre-pool spikes of each step over the batch ``int64 [T]`` (when the forward counted
    them)."""

    x: np.ndarray
    u: np.ndarray
    o: np.ndarray
    s: np.ndarray
    psi: np.ndarray
    z: np.ndarray
    pool_caches: list = field(default_factory=list)
    cols: np.ndarray | None = None
    fired: np.ndarray | None = None


def forward(net: Net, weights: dict, x: np.ndarray, dtype=np.float32,
            keep_cols: bool = False, smooth_forward: bool = False) -> tuple[list[BlockRecord], np.ndarray]:
    """Run the whole network over T steps.

    ``x [T, B, *input_shape]`` -> (records per block, readout ``y [T, B, n_classes]``).
    ``smooth_forward`` (test-only): the *emitted* spike is the integral of Psi (a smooth step
    whose derivative is exactly Psi) while the reset keeps the Heaviside spike; this makes the
    BPTT gradient equal to the true derivative so it can be checked against finite differences.
    ``weights`` are the trained parameters: standardised blocks compute with their W_eff
    (:mod:`~simulator.functional.standardise`).  The records' conv maps are stored channels-last
    (:mod:`~simulator.functional.conv`); their indexing is ``[T, B, C, H, W]`` as documented.
    """
    eff, _ = effective_weights(net, weights, dtype)
    return forward_effective(net, eff, x, dtype, keep_cols, smooth_forward)


def forward_effective(net: Net, eff: dict, x: np.ndarray, dtype=np.float32,
                      keep_cols: bool = False, smooth_forward: bool = False):
    """:func:`forward` with the effective weights already made (``eff``, the first result of
    :func:`~simulator.functional.standardise.effective_weights`): the rules standardise once
    per sample and reuse W_eff for the backward."""
    x = np.asarray(x, dtype=dtype)
    records = []
    h = x
    for i, b in enumerate(net.blocks):
        if b.kind == "linear":
            h = h.reshape(h.shape[0], h.shape[1], -1)
        w = eff[b.name].astype(dtype, copy=False)
        bias = eff[b.name + ".bias"].astype(dtype, copy=False) if b.bias else None
        cols = block_cols(b, h)
        cur = block_current(b, w, bias, h, cols=cols)
        o, u, ps, fired = lif_sequence(cur, b.neuron, with_psi=True, in_place=True, counts=True)
        s = psi_integral(u, b.neuron) if smooth_forward else o
        t = s.shape[0]
        z, caches = pools_forward(_fold(s), b.pools)
        z = _unfold(z, t)
        records.append(BlockRecord(h, u, o, s, ps, z, caches, cols if keep_cols else None, fired))
        h = z
    r = net.readout
    hf = h.reshape(h.shape[0], h.shape[1], -1)
    y = hf @ eff[r.name].astype(dtype, copy=False).T
    if r.bias:
        y = y + eff[r.name + ".bias"].astype(dtype, copy=False)
    return records, y


class OnlineNetwork:
    """Small stateful wrapper: steps the network one time step at a time (step-major, the
    hardware order) around the pure step functions.  ``reset(batch)`` zeroes the membranes;
    ``step(x_t [B, *input_shape]) -> y_t [B, n_classes]``; after a step ``last_spikes[i]`` holds
    block i's pre-pool spikes ``[B, *neuron]``.  ``smooth_forward`` as in :func:`forward`."""

    def __init__(self, net: Net, weights: dict, dtype=np.float32, smooth_forward: bool = False):
        self.net, self.dtype, self.smooth_forward = net, dtype, smooth_forward
        eff, _ = effective_weights(net, weights, dtype)
        self.w = {k: v.astype(dtype, copy=False) for k, v in eff.items()}
        self.state: list[np.ndarray] = []
        self.last_spikes: list[np.ndarray] = []

    def reset(self, batch: int) -> None:
        self.state = [np.zeros((batch,) + b.pre_shape, dtype=self.dtype)
                      for b in self.net.blocks]

    def step(self, x_t: np.ndarray) -> np.ndarray:
        batch = x_t.shape[0]
        if not self.state or self.state[0].shape[0] != batch:
            self.reset(batch)
        h = np.asarray(x_t, dtype=self.dtype)[None]
        self.last_spikes = []
        for i, b in enumerate(self.net.blocks):
            if b.kind == "linear":
                h = h.reshape(1, batch, -1)
            bias = self.w[b.name + ".bias"] if b.bias else None
            cur = block_current(b, self.w[b.name], bias, h)[0]
            o, u, self.state[i] = lif_step(self.state[i], cur, b.neuron)
            s = psi_integral(u, b.neuron) if self.smooth_forward else o
            self.last_spikes.append(o)
            z, _ = pools_forward(s, b.pools)
            h = z[None]
        r = self.net.readout
        y = h.reshape(batch, -1) @ self.w[r.name].T
        if r.bias:
            y = y + self.w[r.name + ".bias"]
        return y


def forward_online(net: Net, weights: dict, x: np.ndarray, dtype=np.float32):
    """Step-major reference order with explicit state (:class:`OnlineNetwork`).  Returns
    (spikes per block ``[T, B, *neuron]``, ``y [T, B, n_classes]``).  Slower (one small GEMM per
    block per step); used to check :func:`forward`."""
    online = OnlineNetwork(net, weights, dtype)
    online.reset(x.shape[1])
    spikes = [[] for _ in net.blocks]
    ys = []
    for t in range(x.shape[0]):
        ys.append(online.step(x[t]))
        for i, o in enumerate(online.last_spikes):
            spikes[i].append(o)
    return [np.stack(s) for s in spikes], np.stack(ys)


#: what the forward records of one chunk of samples may take (bytes): callers that only need a
#: per-sample result (predictions, activity counts) run their samples in chunks under it
CHUNK_BYTES = 2 ** 30


def samples_per_chunk(net: Net, T: int, itemsize: int = 4, budget: int | None = None) -> int:
    """How many samples one forward pass may take so that its records (per block: the input,
    u, o, s, Psi, z, and an im2col copy of a conv input) stay under ``budget`` bytes."""
    per = 0
    for b in net.blocks:
        cols = b.N_pre // b.pre_shape[0] * b.kernel ** 2 * b.in_shape[0] if b.kind == "conv" else 0
        per += b.N_in + 4 * b.N_pre + b.N_post + cols
    return max(1, (CHUNK_BYTES if budget is None else budget) // (T * per * itemsize))


def readout_input(records: list[BlockRecord]) -> np.ndarray:
    """Flattened last block output ``h [T, B, F]``."""
    z = records[-1].z
    return z.reshape(z.shape[0], z.shape[1], -1)


def spike_counts(records: list[BlockRecord]) -> np.ndarray:
    """Total pre-pool spikes per block per step over the batch: ``[n_blocks, T]``."""
    # o is 0/1: counting is exact at any batch (a float32 sum would round past 2^24)
    return np.stack([(r.fired if r.fired is not None
                      else np.count_nonzero(r.o, axis=tuple(range(1, r.o.ndim)))).astype(r.o.dtype)
                     for r in records])
