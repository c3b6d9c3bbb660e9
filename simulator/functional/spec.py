"""The functional engine's own plain network description (no YAML, no schema library).

Other parts of tess-sim (workload schema, CLI) translate their workloads into these frozen
dataclasses.  Shapes are per sample (no batch, no time axis): ``(C, H, W)`` for conv blocks,
``(features,)`` for linear blocks.  A linear block after a conv block sees the previous block's
output flattened in (C, H, W) order.
"""

from __future__ import annotations

from dataclasses import dataclass

from tess_sim.simulator.errors import UserError

WHERE = "network"


@dataclass(frozen=True)
class NeuronParams:
    """LIF neuron (docs/math.md §1).

    ``v_reset`` None means theta (the reference TESS conv layer uses 1.0, its BPTT baseline 0.6).
    ``psi``: "triangle" gamma*max(0, 1-|u-theta|/width) or "fast_sigmoid"
    1/(slope*|u-theta|+1)**2 (no gamma factor, as in snnTorch / the reference linear layer).
    ``smooth_forward`` (test-only, default False): the *emitted* spike is the integral of Psi
    (a smooth step whose derivative is exactly Psi) while the reset keeps the Heaviside spike;
    this makes the BPTT gradient equal to the true derivative so it can be checked against finite
    differences.
    """

    beta: float = 0.5
    theta: float = 0.6
    v_reset: float | None = None
    reset: str = "subtract"
    psi: str = "triangle"
    gamma: float = 0.3
    width: float = 1.0
    slope: float = 100.0
    smooth_forward: bool = False

    @property
    def v_reset_value(self) -> float:
        return self.theta if self.v_reset is None else self.v_reset


@dataclass(frozen=True)
class PoolSpec:
    """A pooling stage after a spiking layer.

    kind "max" / "avg": size×size windows, stride size (trailing rows/columns that do not fill a
    window are dropped, PyTorch floor semantics); "adaptive_avg": output size×size, the input
    height and width must be multiples of size.
    """

    kind: str
    size: int


@dataclass(frozen=True)
class BlockSpec:
    """One spiking (LIF) layer and the pools that follow it."""

    name: str
    kind: str
    in_shape: tuple[int, ...]
    out: int
    kernel: int = 3
    stride: int = 1
    padding: int = 1
    bias: bool = False
    neuron: NeuronParams = NeuronParams()
    pools: tuple[PoolSpec, ...] = ()


@dataclass(frozen=True)
class ReadoutSpec:
    """Non-spiking linear readout y[t] = W_r · flatten(h[t]) + b_r."""

    name: str
    in_features: int
    out_features: int
    bias: bool = True


@dataclass(frozen=True)
class NetSpec:
    input_shape: tuple[int, ...]
    blocks: tuple[BlockSpec, ...]
    readout: ReadoutSpec


@dataclass(frozen=True)
class RuleParams:
    """Eligibility-trace rule parameters (docs/math.md §3-4).

    ``window`` None means T (every step learns); otherwise steps t >= T - window learn.
    ``lsg_pool``: TESS LSG pool size s_l per block (one entry per block; entries of linear blocks
    are ignored: a linear block's latent is its output, D_l = out features).  Empty means s_l = 1
    (global average) for every conv block.
    """

    lambda_pre: float = 0.5
    lambda_post: float = 0.2
    alpha_pre: float = 1.0
    alpha_post: float = 1.0
    window: int | None = None
    lsg_pool: tuple[int, ...] = ()


# ---------------------------------------------------------------------------------------------
# shape helpers


def conv_out_hw(h: int, w: int, k: int, s: int, p: int) -> tuple[int, int]:
    """Output height/width of a conv (floor semantics)."""
    return (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1


def pool_out_hw(h: int, w: int, pool: PoolSpec) -> tuple[int, int]:
    if pool.kind in ("max", "avg"):
        return h // pool.size, w // pool.size
    return pool.size, pool.size


def block_shapes(block: BlockSpec) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(neuron shape, output shape after pools) of a block, per sample."""
    if block.kind == "linear":
        return (block.out,), (block.out,)
    _, h, w = block.in_shape
    h, w = conv_out_hw(h, w, block.kernel, block.stride, block.padding)
    neuron = (block.out, h, w)
    for pool in block.pools:
        h, w = pool_out_hw(h, w, pool)
    return neuron, (block.out, h, w)


def weight_shape(block: BlockSpec) -> tuple[int, ...]:
    if block.kind == "conv":
        return (block.out, block.in_shape[0], block.kernel, block.kernel)
    return (block.out, block.in_shape[0])


def weight_shapes(net: NetSpec) -> dict[str, tuple[int, ...]]:
    """Every trainable tensor of the net: ``name`` -> weight shape, ``name.bias`` -> (out,)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for b in net.blocks:
        shapes[b.name] = weight_shape(b)
        if b.bias:
            shapes[b.name + ".bias"] = (b.out,)
    r = net.readout
    shapes[r.name] = (r.out_features, r.in_features)
    if r.bias:
        shapes[r.name + ".bias"] = (r.out_features,)
    return shapes


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def validate_net(net: NetSpec, where: str = WHERE) -> None:
    """Check that consecutive shapes chain; raise :class:`UserError` naming the field."""
    if not net.blocks:
        raise UserError(where, "blocks", "the network needs at least one spiking block")
    prev = tuple(net.input_shape)
    names = set()
    for i, b in enumerate(net.blocks):
        f = f"blocks[{i}]"
        if b.name in names or b.name == net.readout.name:
            raise UserError(where, f + ".name", f"duplicate layer name {b.name!r}")
        names.add(b.name)
        if b.kind not in ("conv", "linear"):
            raise UserError(where, f + ".kind", f"must be 'conv' or 'linear', got {b.kind!r}")
        if b.neuron.reset not in ("subtract", "zero"):
            raise UserError(where, f + ".neuron.reset", "must be 'subtract' or 'zero'")
        if b.neuron.psi not in ("triangle", "fast_sigmoid"):
            raise UserError(where, f + ".neuron.psi", "must be 'triangle' or 'fast_sigmoid'")
        if b.kind == "conv":
            if len(b.in_shape) != 3 or tuple(b.in_shape) != prev:
                raise UserError(where, f + ".in_shape",
                                f"is {tuple(b.in_shape)}, previous output is {prev}")
            if b.kernel < 1 or b.stride < 1 or b.padding < 0:
                raise UserError(where, f, "kernel and stride must be >= 1, padding >= 0")
            _, h, w = b.in_shape
            h, w = conv_out_hw(h, w, b.kernel, b.stride, b.padding)
            if h < 1 or w < 1:
                raise UserError(where, f, "kernel larger than the padded input")
            for j, p in enumerate(b.pools):
                if p.kind not in ("max", "avg", "adaptive_avg") or p.size < 1:
                    raise UserError(where, f"{f}.pools[{j}]",
                                    "kind must be max/avg/adaptive_avg, size >= 1")
                if p.kind == "adaptive_avg" and (h % p.size or w % p.size):
                    raise UserError(where, f"{f}.pools[{j}]",
                                    f"adaptive_avg {p.size} does not divide {h}x{w}")
                h, w = pool_out_hw(h, w, p)
                if h < 1 or w < 1:
                    raise UserError(where, f"{f}.pools[{j}]", "pool larger than its input")
        else:
            if b.pools:
                raise UserError(where, f + ".pools", "linear blocks take no pools")
            if len(b.in_shape) != 1 or b.in_shape[0] != _prod(prev):
                raise UserError(where, f + ".in_shape",
                                f"is {tuple(b.in_shape)}, flattened previous output has "
                                f"{_prod(prev)} features")
        prev = block_shapes(b)[1]
    if net.readout.in_features != _prod(prev):
        raise UserError(where, "readout.in_features",
                        f"is {net.readout.in_features}, last block outputs {_prod(prev)}")


def lsg_sizes(net: NetSpec, params: RuleParams, where: str = WHERE) -> list[int | None]:
    """s_l per block (None for linear blocks: the latent is the output itself)."""
    if params.lsg_pool and len(params.lsg_pool) != len(net.blocks):
        raise UserError(where, "lsg_pool",
                        f"has {len(params.lsg_pool)} entries, the net has {len(net.blocks)} blocks")
    out: list[int | None] = []
    for i, b in enumerate(net.blocks):
        if b.kind == "linear":
            out.append(None)
            continue
        s = int(params.lsg_pool[i]) if params.lsg_pool else 1
        _, h, w = block_shapes(b)[1]
        if s < 1 or h % s or w % s:
            raise UserError(where, f"lsg_pool[{i}]",
                            f"s_l = {s} must divide the block output {h}x{w}")
        out.append(s)
    return out
