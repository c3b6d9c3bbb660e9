"""A tensor contraction as a loop nest over named dimensions.

Dimensions (canonical order :data:`DIMS`): ``B`` batch, ``T`` time step, ``K`` output channel,
``C`` input channel, ``OY``/``OX`` output row/column, ``FY``/``FX`` filter row/column. The nest
iterates every point of the product of its dims' sizes (the *dense points*); each operand reads or
accumulates one element per point, addressed by its axes. An axis is a dim, or a sliding window
``out * stride + filter`` (e.g. the input row of a conv, ``Axis("OY", "FY", stride)``), whose
element count over a tile of ``o`` outputs and ``f`` filter taps is the padded extent
``(o - 1) * stride + f`` — the bounding box of the touched indices, as Timeloop sees a padded input
(with ``f < stride`` the box includes indices the tile never touches).

Phase kinds as nests (``u`` membrane, ``x`` input spikes, ``W`` weights, ``d`` error, ``g`` gradient):
forward conv ``u[K,OY,OX] += W[K,C,FY,FX] * x[C, OY*s+FY, OX*s+FX]``; error propagation (the
transposed conv, scattered) ``dx[C, OY*s+FY, OX*s+FX] += W[K,C,FY,FX] * d[K,OY,OX]`` (role write);
weight gradient ``g[K,C,FY,FX] += d[K,OY,OX] * x[C, OY*s+FY, OX*s+FX]``; linear ``y[K] += W[K,C] x[C]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

DIMS = ("B", "T", "K", "C", "OY", "OX", "FY", "FX")   # canonical order
ROLES = ("read", "update", "write")


@dataclass(frozen=True)
class Axis:
    """One index of an operand: the dim ``dim``, or with ``window`` the sliding index
    ``dim * stride + window`` (extent ``(n_dim - 1) * stride + n_window``)."""
    dim: str
    window: str | None = None
    stride: int = 1

    @property
    def dims(self) -> tuple[str, ...]:
        return (self.dim,) if self.window is None else (self.dim, self.window)

    def extent(self, sizes) -> int:
        """Elements along this axis over a box of ``sizes[dim]`` indices per dim (padded extent)."""
        if self.window is None:
            return sizes[self.dim]
        return (sizes[self.dim] - 1) * self.stride + sizes[self.window]


@dataclass(frozen=True)
class Operand:
    """One tensor of a nest.

    ``role``: ``read`` (an input); ``update`` (accumulated in place, its initial value in memory:
    every visit of a tile reads and writes it); ``write`` (accumulated from zero: an element's first
    visit at a level writes without reading). ``bits`` per element. ``memory``: home memory (an
    on-chip buffer, i.e. an SRAM name, or a DRAM name). ``spilled``: backed by the Arch's DRAM and
    staged through ``memory``; otherwise resident in ``memory`` (no DRAM traffic, no capacity
    charge). ``sparse``: the zero operand whose zeros ``pe.zero`` gates or skips."""
    name: str
    axes: tuple[Axis, ...]
    role: str
    bits: int
    memory: str
    spilled: bool
    sparse: bool = False

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"operand {self.name}: role {self.role!r} not in {ROLES}")
        if self.bits <= 0:
            raise ValueError(f"operand {self.name}: bits must be positive")

    @property
    def dims(self) -> frozenset[str]:
        """The dims relevant to this operand (those its axes name)."""
        return frozenset(d for a in self.axes for d in a.dims)

    @property
    def is_output(self) -> bool:
        return self.role != "read"

    def elements(self, sizes) -> int:
        """Elements of the box spanned by ``sizes`` (dim -> indices), e.g. the whole tensor."""
        return math.prod(a.extent(sizes) for a in self.axes)


@dataclass(frozen=True)
class Nest:
    """A loop nest: ``dims`` sizes, ``operands`` (>= 2 inputs, exactly one output), ``ops`` per
    point by op kind (e.g. ``{"ac": 1}``), ``density`` = fraction of points whose sparse operand is
    non-zero. ``op_bits``: precision used to price ops (``("pe", kind, op_bits)`` in the Arch's
    energy table; 0 = the widest input). Frozen and hashable (dims/ops are stored as sorted tuples
    internally; read them back as dicts through :attr:`sizes` / :attr:`op_counts`)."""
    dims: dict[str, int]
    operands: tuple[Operand, ...]
    ops: dict[str, float]
    density: float = 1.0
    op_bits: int = 0
    _dims: tuple = field(init=False, repr=False, compare=True)
    _ops: tuple = field(init=False, repr=False, compare=True)

    def __post_init__(self):
        dims = dict(self.dims)
        unknown = set(dims) - set(DIMS)
        if unknown:
            raise ValueError(f"unknown dims {sorted(unknown)}; use {DIMS}")
        if any(int(v) < 1 for v in dims.values()):
            raise ValueError("every dim size must be >= 1")
        ordered = tuple((d, int(dims[d])) for d in DIMS if d in dims)
        object.__setattr__(self, "_dims", ordered)
        object.__setattr__(self, "_ops", tuple(sorted((k, float(v)) for k, v in dict(self.ops).items())))
        object.__setattr__(self, "dims", dict(ordered))
        object.__setattr__(self, "ops", dict(self._ops))
        object.__setattr__(self, "operands", tuple(self.operands))
        names = [o.name for o in self.operands]
        if len(set(names)) != len(names):
            raise ValueError(f"operand names must be unique: {names}")
        outs = [o for o in self.operands if o.is_output]
        if len(outs) != 1 or len(self.operands) < 3:
            raise ValueError("a nest has >= 2 inputs and exactly one output (role update or write)")
        for o in self.operands:
            missing = o.dims - set(dims)
            if missing:
                raise ValueError(f"operand {o.name} names dims {sorted(missing)} the nest does not have")
        if not 0.0 <= self.density <= 1.0:
            raise ValueError("density must be in [0, 1]")

    def __hash__(self):
        return hash((self._dims, self.operands, self._ops, self.density, self.op_bits))

    @property
    def order(self) -> tuple[str, ...]:
        """The nest's dims in canonical order."""
        return tuple(d for d, _ in self._dims)

    @property
    def points(self) -> int:
        """Dense points: the product of the dim sizes."""
        return math.prod(v for _, v in self._dims)

    @property
    def output(self) -> Operand:
        return next(o for o in self.operands if o.is_output)

    @property
    def inputs(self) -> tuple[Operand, ...]:
        return tuple(o for o in self.operands if not o.is_output)

    def operand(self, name: str) -> Operand:
        return next(o for o in self.operands if o.name == name)

    def pe_bits(self) -> int:
        """Precision an op is priced at: ``op_bits`` or the widest input."""
        return self.op_bits or max(o.bits for o in self.inputs)
