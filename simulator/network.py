"""Network shapes: the layer list of a workload resolved into blocks with their sizes and counts.

A *block* is one spiking layer (conv or linear, LIF neurons) together with the pooling layers that
follow it; the readout is the non-spiking linear layer at the end. Per block, per time step:

- ``N_in``   input elements (C_in·H_in·W_in, or in_features)
- ``N_pre``  neurons of the layer (before pooling)
- ``N_post`` block output elements (after pooling)
- ``params`` weights (+ bias)
- ``F``      dense MACs per step, K²·C_in·C_out·H_out·W_out, zero padding included (the paper's count)
- ``S``      border-exact dense synaptic operations: only (input, neuron) pairs whose input lies
             inside the map (NeuroBench's "Dense"); S ≤ F, equal without padding
- fan-in per neuron (K²·C_in) and the border-exact fan-out of every input element
  (:meth:`Block.fanout`), whose sum is S.

The conv / pool output sizes and the per-axis fan-out come from :mod:`simulator.shapes` (written
once); the shapes are validated here, once, when the workload is resolved. The functional engine
reads these blocks directly (its arrays take their shapes from ``in_shape``, ``pre_shape``,
``post_shape`` and :attr:`Block.weight_shape`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from tess_sim.simulator import limits as L
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.shapes import conv_out_hw, pool_out_hw, pool_window, taps_per_input
from tess_sim.simulator.workload import Neuron, Workload, layer_names

# Sizes and counts are exact Python ints (never int64: a wide network must not wrap); the
# limits of simulator.limits keep them far below 2^53, so the ledger's float64 holds them exactly.


@dataclass(frozen=True)
class Pool:
    """A pooling stage: ``max`` / ``avg`` (k×k window, stride k) or ``adaptive_avg`` (to size×size)."""

    name: str
    kind: str
    size: int

    def out_hw(self, h: int, w: int) -> tuple[int, int]:
        """Output (H, W) over an h×w map (:func:`simulator.shapes.pool_out_hw`)."""
        return pool_out_hw(self.kind, self.size, h, w)

    def window(self, h: int, w: int) -> int:
        """Input elements per output element (:func:`simulator.shapes.pool_window`)."""
        kh, kw = pool_window(self.kind, self.size, h, w)
        return kh * kw


@dataclass(frozen=True)
class Block:
    """One spiking layer (or the readout) with its pools; shapes are (C, H, W) or (features,)."""

    index: int
    name: str
    kind: str  # "conv" | "linear" | "readout"
    in_shape: tuple[int, ...]
    pre_shape: tuple[int, ...]
    post_shape: tuple[int, ...]
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    bias: bool = False
    pools: tuple[Pool, ...] = ()
    neuron: Neuron | None = None
    analog_input: bool = False
    #: scaled weight standardisation (docs/math.md §1a): the layer trains raw W and a gain per
    #: output channel (``<name>.gain``) and computes with W_eff
    standardised: bool = False
    #: the fixed γ of the standardisation (``network.weight_standardisation_gamma``)
    ws_gamma: float = 1.0

    @property
    def spiking(self) -> bool:
        return self.kind != "readout"

    @property
    def N_in(self) -> int:
        return math.prod(self.in_shape)

    @property
    def N_pre(self) -> int:
        return math.prod(self.pre_shape)

    @property
    def N_post(self) -> int:
        return math.prod(self.post_shape)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """The weight tensor: conv ``(C_out, C_in, K, K)``, linear / readout ``(out, in)``."""
        if self.kind == "conv":
            return (self.pre_shape[0], self.in_shape[0], self.kernel, self.kernel)
        return (self.N_pre, self.N_in)

    @property
    def weights(self) -> int:
        """Weights (biases excluded): the size of :attr:`weight_shape`."""
        return math.prod(self.weight_shape)

    @property
    def params(self) -> int:
        """Weights plus biases."""
        return self.weights + (self.pre_shape[0] if self.bias else 0)

    @property
    def gains(self) -> int:
        """Weight-standardisation gains: one per output channel of a standardised layer, else 0."""
        return self.pre_shape[0] if self.standardised else 0

    @property
    def fan_in(self) -> int:
        """Dense fan-in of one neuron, padding included (K²·C_in or in_features)."""
        return self.in_shape[0] * self.kernel ** 2 if self.kind == "conv" else self.N_in

    @property
    def F(self) -> int:
        """Dense MACs per step, zero padding included: fan_in · N_pre."""
        return self.fan_in * self.N_pre

    @cached_property
    def _axis_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Per input row / column: how many output rows / columns its kernel taps reach."""
        _, h, w = self.in_shape
        return (taps_per_input(h, self.kernel, self.stride, self.padding),
                taps_per_input(w, self.kernel, self.stride, self.padding))

    @property
    def S(self) -> int:
        """Border-exact dense synaptic operations per step (pairs whose input is inside the map)."""
        if self.kind != "conv":
            return self.F
        cy, cx = self._axis_counts
        return self.in_shape[0] * self.pre_shape[0] * int(cy.sum()) * int(cx.sum())

    def fanout_plane(self) -> np.ndarray:
        """Conv: border-exact fan-out of one input position into the whole layer (all C_out
        output channels), ``[H_in, W_in]`` int64, the same for every input channel."""
        cy, cx = self._axis_counts
        return np.outer(cy, cx) * self.pre_shape[0]

    def fanout(self) -> np.ndarray:
        """Border-exact fan-out of every input element, shape ``in_shape`` (sum = S)."""
        if self.kind != "conv":
            return np.full(self.in_shape, self.N_pre, dtype=np.int64)
        return np.broadcast_to(self.fanout_plane(), self.in_shape).astype(np.int64)


@dataclass(frozen=True)
class Net:
    """A resolved network: spiking blocks, the readout, and the workload's input facts."""

    input_shape: tuple[int, ...]
    blocks: tuple[Block, ...]
    readout: Block
    T: int
    classes: int
    batch: int
    analog_input: bool
    layer_names: tuple[str, ...] = field(default=())

    @property
    def layers(self) -> tuple[Block, ...]:
        """Blocks then the readout: every layer that has weights."""
        return self.blocks + (self.readout,)

    @property
    def N_input(self) -> int:
        return math.prod(self.input_shape)

    def block(self, name: str) -> Block:
        for b in self.layers:
            if b.name == name:
                return b
        raise KeyError(name)


def _merge_neuron(base: Neuron, override) -> Neuron:
    """The workload's neuron with a layer's override (a ``psi`` override changes only the keys it sets)."""
    if override is None:
        return base
    changes = override.model_dump(exclude_none=True)
    if override.psi is not None:
        changes["psi"] = {**base.psi.model_dump(), **override.psi.model_dump(exclude_unset=True)}
    return Neuron.model_validate({**base.model_dump(), **changes})


def default_names(kinds: list[str]) -> list[str]:
    """Stable default names: the n-th layer of a type is ``<type><n>``; the readout is ``readout``."""
    return layer_names([{"type": k} for k in kinds])


def check_sizes(wl: Workload, net: "Net", where: str) -> None:
    """Refuse a network whose maps, weights or per-step arrays exceed :mod:`simulator.limits`
    (docs/limits.md), naming the layer and the estimated size."""
    wm = wl.network.width_multiplier
    scaled = f" (width_multiplier {wm:g})" if wm != 1 else ""
    field_of = {n: f"network.layers[{i}] ({n})" for i, n in enumerate(net.layer_names)}
    total = net.N_input
    for b in net.layers:
        f = field_of[b.name] if wm == 1 else "network.width_multiplier"
        if b.pre_shape[0] > L.MAX_CHANNELS:
            raise UserError(where, f, f"layer {b.name} has {b.pre_shape[0]:,} channels{scaled}, over the "
                            f"limit of {L.MAX_CHANNELS:,} (docs/limits.md)")
        for what, n in (("neurons", b.N_pre), ("inputs", b.N_in)):
            if n > L.MAX_LAYER_ELEMENTS:
                raise UserError(where, f, f"layer {b.name} has {n:,} {what}{scaled}, over the limit of "
                                f"{L.MAX_LAYER_ELEMENTS:,} per map (one float64 map: {L.human_bytes(8 * n)})")
        if b.params > L.MAX_LAYER_WEIGHTS:
            raise UserError(where, f, f"layer {b.name} has {b.params:,} weights{scaled}, over the limit of "
                            f"{L.MAX_LAYER_WEIGHTS:,} ({L.human_bytes(4 * b.params)} at 32 bits)")
        total += b.N_pre
    weights = sum(b.params for b in net.layers)
    field = "network.width_multiplier" if wm != 1 else "network.layers"
    if total > L.MAX_TOTAL_ELEMENTS:
        raise UserError(where, field, f"the network has {total:,} elements in all its maps{scaled}, over the "
                        f"limit of {L.MAX_TOTAL_ELEMENTS:,} ({L.human_bytes(8 * total)} as float64)")
    if weights > L.MAX_TOTAL_WEIGHTS:
        raise UserError(where, field, f"the network has {weights:,} weights{scaled}, over the limit of "
                        f"{L.MAX_TOTAL_WEIGHTS:,} ({L.human_bytes(4 * weights)} at 32 bits)")
    need = L.step_bytes(net.T, len(net.layers), len(wl.rules.enabled()))
    if net.T > L.MAX_T:
        raise UserError(where, "input.T", f"T = {net.T:,} steps is over the limit of {L.MAX_T:,} (its per-step "
                        f"counts alone would need about {L.human_bytes(need)}; docs/limits.md)")
    if need > L.MAX_STEP_BYTES:
        raise UserError(where, "input.T", f"T = {net.T:,} steps × {len(net.layers)} layers × "
                        f"{len(wl.rules.enabled())} rules needs about {L.human_bytes(need)} of per-step counts, "
                        f"over the limit of {L.human_bytes(L.MAX_STEP_BYTES)} (docs/limits.md)")


def _standardised(wl: Workload, layer) -> bool:
    """Whether a conv / linear layer is weight-standardised: its own setting, else the network's."""
    return (layer.weight_standardisation or wl.network.weight_standardisation) == "scaled"


def build_network(wl: Workload, where: str = "<workload>") -> Net:
    """Resolve the workload's layer list into blocks; impossible shapes raise UserError naming the layer."""
    layers = wl.network.layers
    wm = wl.network.width_multiplier
    defaults = default_names([layer.type for layer in layers])
    names = [layer.name or d for layer, d in zip(layers, defaults)]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        i = next(i for i, n in enumerate(names) if n in dup)
        raise UserError(where, f"network.layers[{i}].name", f"duplicate layer name '{names[i]}'")

    shape: tuple[int, ...] = tuple(wl.input.shape)
    blocks: list[dict] = []
    readout: Block | None = None

    def fail(i: int, reason: str) -> UserError:
        return UserError(where, f"network.layers[{i}] ({names[i]})", reason)

    for i, layer in enumerate(layers):
        if readout is not None:
            raise fail(i, "the readout must be the last layer")
        t = layer.type
        if t == "conv":
            if len(shape) != 3:
                raise fail(i, f"a conv layer needs a (C, H, W) input, got {list(shape)}")
            c, h, w = shape
            k, s, p = layer.kernel, layer.stride, layer.padding
            oh, ow = conv_out_hw(h, w, k, s, p)
            if oh < 1 or ow < 1:  # k > h + 2p or k > w + 2p: the window does not fit
                raise fail(i, f"kernel {k} is larger than the padded input {h + 2 * p}×{w + 2 * p}")
            cout = max(1, round(layer.out_channels * wm))
            blocks.append(dict(index=len(blocks), name=names[i], kind="conv", in_shape=shape,
                               pre_shape=(cout, oh, ow), kernel=k, stride=s, padding=p,
                               bias=layer.bias, neuron=_merge_neuron(wl.neuron, layer.neuron),
                               pools=[], analog_input=not blocks and wl.input.encoding == "analog",
                               standardised=_standardised(wl, layer),
                               ws_gamma=wl.network.weight_standardisation_gamma))
            shape = (cout, oh, ow)
        elif t == "linear":
            n_in = math.prod(shape)
            if layer.in_features is not None and layer.in_features != n_in:
                raise fail(i, f"in_features is {layer.in_features} but the input has {n_in} elements")
            out = max(1, round(layer.out_features * wm))
            blocks.append(dict(index=len(blocks), name=names[i], kind="linear", in_shape=(n_in,),
                               pre_shape=(out,), bias=layer.bias,
                               neuron=_merge_neuron(wl.neuron, layer.neuron), pools=[],
                               analog_input=not blocks and wl.input.encoding == "analog",
                               standardised=_standardised(wl, layer),
                               ws_gamma=wl.network.weight_standardisation_gamma))
            shape = (out,)
        elif t == "readout":
            n_in = math.prod(shape)
            if not blocks:
                raise fail(i, "the readout needs at least one spiking layer before it")
            if layer.in_features is not None and layer.in_features != n_in:
                raise fail(i, f"in_features is {layer.in_features} but the last block outputs {n_in} elements")
            out = layer.out_features or wl.input.classes
            if out != wl.input.classes:
                raise fail(i, f"out_features is {out} but input.classes is {wl.input.classes}")
            readout = Block(index=len(blocks), name=names[i], kind="readout", in_shape=(n_in,),
                            pre_shape=(out,), post_shape=(out,), bias=layer.bias)
        else:  # pools
            if not blocks:
                raise fail(i, "a pooling layer must follow a conv or linear layer")
            if len(shape) != 3:
                raise fail(i, f"pooling needs a (C, H, W) map, got {list(shape)}")
            c, h, w = shape
            kind, size = {"maxpool": ("max", getattr(layer, "kernel", 0)),
                          "avgpool": ("avg", getattr(layer, "kernel", 0)),
                          "adaptive_avgpool": ("adaptive_avg", getattr(layer, "size", 1)),
                          "global_avgpool": ("adaptive_avg", 1)}[t]
            if kind == "adaptive_avg":
                if h % size or w % size:
                    raise fail(i, f"a {h}×{w} map does not divide into {size}×{size} (exact division required)")
            elif h % size or w % size:
                raise fail(i, f"a {h}×{w} map cannot be pooled by {size} (exact division required)")
            pool = Pool(names[i], kind, size)
            blocks[-1]["pools"].append(pool)
            shape = (c,) + pool.out_hw(h, w)
        if t != "readout" and blocks:
            blocks[-1]["post_shape"] = shape
    if readout is None:
        raise UserError(where, "network.layers", "the network must end with a 'readout' layer")
    built = tuple(Block(**{**b, "pools": tuple(b["pools"])}) for b in blocks)
    net = Net(input_shape=tuple(wl.input.shape), blocks=built, readout=readout, T=wl.input.T,
              classes=wl.input.classes, batch=wl.input.batch,
              analog_input=wl.input.encoding == "analog", layer_names=tuple(names))
    check_sizes(wl, net, where)
    return net
