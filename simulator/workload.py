"""Workload schema (pydantic v2) and loader.

A workload YAML names the network, the input, the rules to compare, the activity source, the
hardware and the report options (README, Workloads). Every mistake in it becomes a :class:`UserError` whose
one-line message names the file, the dotted field path and the reason; unknown keys get a
did-you-mean hint.

Default layer names (stable, documented in the README): the n-th layer of a type, counted from 1
over the whole network, is ``conv<n>``, ``linear<n>``, ``maxpool<n>``, ``avgpool<n>``,
``adaptive_avgpool<n>``, ``global_avgpool<n>``; the readout is ``readout``.
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError,
                      field_validator, model_serializer, model_validator)

from tess_sim.simulator import limits as L
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.nir_graph import dt_hint, graph_to_network, layers_with_overrides, read_graph
from tess_sim.simulator.yaml_io import read_yaml
from tess_sim.simulator.vocab import BUFFER_KINDS, OP_KINDS, RULE_NAMES

# Every int has an upper bound (simulator.limits, docs/limits.md): nothing a workload sets can
# overflow a count or ask for memory no machine has. Every float is finite (Strict config).
PositiveInt = Annotated[int, Field(gt=0, le=2 ** 53)]
NonNegInt = Annotated[int, Field(ge=0, le=2 ** 53)]
HwCount = Annotated[int, Field(gt=0, le=L.MAX_HW_COUNT)]
HwCount0 = Annotated[int, Field(ge=0, le=L.MAX_HW_COUNT)]
Bits = Annotated[int, Field(gt=0, le=L.MAX_BITS, description=f"bits, 1..{L.MAX_BITS}")]
Steps = Annotated[int, Field(gt=0, le=L.MAX_T, description=f"time steps, 1..{L.MAX_T}")]
Width = Annotated[int, Field(gt=0, le=L.MAX_CHANNELS, description=f"1..{L.MAX_CHANNELS}")]
Seed = Annotated[int, Field(ge=0, lt=2 ** 32, description="0..2^32-1")]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0)]


class Strict(BaseModel):
    """Base model: unknown keys are errors that suggest the closest known key."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = set(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias}
            for key in data:
                if key not in known:
                    hint = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
                    extra = f" (did you mean '{hint[0]}'?)" if hint else f" (known: {', '.join(sorted(known))})"
                    raise ValueError(f"unknown key '{key}'{extra}")
        return data


# --------------------------------------------------------------------------- neurons and layers
class Psi(Strict):
    """Surrogate / secondary activation Psi(u) (docs/math.md §1)."""

    shape: Literal["triangle", "fast_sigmoid"] = "triangle"
    gamma: Positive = 0.3
    width: Positive = 1.0
    slope: Positive = 100.0


class Neuron(Strict):
    """LIF parameters (docs/math.md §1). ``v_reset: null`` subtracts theta."""

    beta: Fraction = 0.5
    theta: Positive = 0.6
    v_reset: float | None = None
    reset: Literal["subtract", "zero"] = "subtract"
    psi: Psi = Psi()


class NeuronOverride(Strict):
    """Per-layer override of some neuron parameters (unset fields inherit the workload's)."""

    beta: Fraction | None = None
    theta: Positive | None = None
    v_reset: float | None = None
    reset: Literal["subtract", "zero"] | None = None
    psi: Psi | None = None


class _Layer(Strict):
    name: str | None = None


#: scaled weight standardisation of a layer's weights (docs/math.md §1a): ``none`` or ``scaled``
Standardisation = Literal["none", "scaled"]


class Conv(_Layer):
    """Spiking 2-D convolution (LIF neurons at every output position)."""

    type: Literal["conv"]
    out_channels: Width
    kernel: PositiveInt = 3
    stride: PositiveInt = 1
    padding: NonNegInt = 1
    bias: bool = False
    neuron: NeuronOverride | None = None
    weight_standardisation: Standardisation | None = None  # None: the network's


class Linear(_Layer):
    """Spiking fully-connected layer (flattens its input, C,H,W order)."""

    type: Literal["linear"]
    out_features: Width
    in_features: PositiveInt | None = None
    bias: bool = False
    neuron: NeuronOverride | None = None
    weight_standardisation: Standardisation | None = None  # None: the network's


class MaxPool(_Layer):
    """k×k max-pool, stride k; the map must divide exactly."""

    type: Literal["maxpool"]
    kernel: PositiveInt = 2


class AvgPool(_Layer):
    """k×k average pool, stride k; the map must divide exactly."""

    type: Literal["avgpool"]
    kernel: PositiveInt = 2


class AdaptiveAvgPool(_Layer):
    """Adaptive average pool to size×size; the map must divide exactly."""

    type: Literal["adaptive_avgpool"]
    size: PositiveInt = 1


class GlobalAvgPool(_Layer):
    """Global average pool (adaptive average pool to 1×1)."""

    type: Literal["global_avgpool"]


class Readout(_Layer):
    """Non-spiking linear readout y[t] = W_r·flatten(h[t]) + b_r; out_features defaults to classes."""

    type: Literal["readout"]
    out_features: Width | None = None
    in_features: PositiveInt | None = None
    bias: bool = True


Layer = Annotated[Union[Conv, Linear, MaxPool, AvgPool, AdaptiveAvgPool, GlobalAvgPool, Readout],
                  Field(discriminator="type")]
LAYER_TYPES = ("conv", "linear", "maxpool", "avgpool", "adaptive_avgpool", "global_avgpool", "readout")


class Network(Strict):
    """The layer list, in order; ``width_multiplier`` scales every conv/linear width (rounded).

    Limits (docs/limits.md): a scaled width is at most MAX_CHANNELS; a map (input or neurons of a
    layer) at most MAX_LAYER_ELEMENTS elements, all maps MAX_TOTAL_ELEMENTS; weights of a layer
    MAX_LAYER_WEIGHTS, of the network MAX_TOTAL_WEIGHTS.
    """

    layers: Annotated[list[Layer], Field(min_length=1)] | None = None
    #: a NIR graph file (docs/nir.md), relative to the workload: the loader makes ``layers`` of it
    nir: Annotated[str | None, Field(description=(
        "a NIR graph (.nir, relative to the workload file) instead of layers: its layers, neuron parameters "
        "and weights (docs/nir.md); needs dt"))] = None
    dt: Annotated[float | None, Field(gt=0, le=1e6, description=(
        "seconds per time step of the NIR graph's neurons: beta = 1 - dt/tau, theta = v_threshold·tau/(r·dt) "
        "(docs/nir.md)"))] = None
    weight_standardisation: Annotated[Standardisation, Field(description=(
        "scaled: every conv and linear spiking layer trains W_eff = gain·(W − mean)/sqrt(var·fan_in + 1e-4) "
        "per output channel, as the TESS reference code (--wn); a layer's own setting overrides it; "
        "the readout is never standardised"))] = "none"
    weight_standardisation_gamma: Annotated[float, Field(gt=0, le=100, description=(
        "a fixed factor γ on every standardised W_eff (not trained): 1 is the formula above; NF-Nets' "
        "scaled WS puts the nonlinearity's γ here, e.g. 2.74 = 1/sqrt(p(1-p)), p = P(N(0,1) > 1), "
        "the OTTT code's Scale(2.74) after each spiking layer"))] = 1.0
    width_multiplier: Annotated[float, Field(gt=0, le=L.MAX_CHANNELS, description=(
        f"scales every conv/linear width; each scaled width must stay <= {L.MAX_CHANNELS}"))] = 1.0

    @model_validator(mode="after")
    def _layers_or_nir(self) -> "Network":
        if self.layers is None:
            raise ValueError("layers: required field is missing" if self.nir is None else
                             "nir: a NIR graph is read when the workload is loaded (load_workload / "
                             "workload_from_dict), not by the schema alone")
        if self.dt is not None and self.nir is None:
            raise ValueError("dt is the time step of a NIR graph: give it with network.nir only")
        return self

    @model_serializer(mode="wrap")
    def _derived_layers(self, handler):
        """With ``nir``, ``layers`` is derived from the graph: a dump leaves it out, so that a
        dumped workload reloads (and reads the graph again) without a contradiction."""
        out = handler(self)
        if self.nir is not None and isinstance(out, dict):
            out.pop("layers", None)
        return out


# --------------------------------------------------------------------------- input, rules, activity
class Input(Strict):
    """The data: ``shape`` (C,H,W) or (features,), T steps, classes, batch size.

    ``encoding: analog`` feeds real values to the first layer (its synaptic work is MACs);
    ``spikes`` feeds binary events (ACs).
    """

    shape: Annotated[list[Annotated[int, Field(gt=0, le=L.MAX_LAYER_ELEMENTS)]], Field(
        min_length=1, max_length=3,
        description=f"[C, H, W] or [features]; at most {L.MAX_LAYER_ELEMENTS} elements in all")]
    T: Annotated[int, Field(gt=0, description=(
        f"time steps per sample, 1..{L.MAX_T}; T × layers × rules × {L.BYTES_PER_STEP} B "
        f"<= {L.human_bytes(L.MAX_STEP_BYTES)}"))]
    classes: Annotated[int, Field(ge=2, le=L.MAX_CHANNELS)]
    batch: Annotated[int, Field(gt=0, le=L.MAX_BATCH)] = 1
    encoding: Literal["spikes", "analog"] = "spikes"

    @field_validator("shape")
    @classmethod
    def _shape(cls, v: list[int]) -> list[int]:
        if len(v) == 2:
            raise ValueError("shape must be [C, H, W] or [features]")
        n = math.prod(v)
        if n > L.MAX_LAYER_ELEMENTS:
            raise ValueError(f"{' × '.join(map(str, v))} = {n:,} elements is over the limit of "
                             f"{L.MAX_LAYER_ELEMENTS:,} per map (one float64 map alone would take "
                             f"{L.human_bytes(8 * n)})")
        return v


Optimizer = Literal["sgd", "adam"]
#: time-step schedules (docs/dataflow.md): every layer per step, or a layer's T steps then the next
Schedule = Literal["step_major", "layer_major"]
#: when the weights change (docs/dataflow.md): once per mini-batch, once per sample, every learning step
UpdatePolicy = Literal["per_batch", "per_sample", "per_step"]


class BPTTParams(Strict):
    """Backpropagation through time (docs/math.md §2).

    ``schedule``: ``layer_major`` runs the forward pass layer by layer (legal: a layer's T steps
    need only its input spikes, which the history keeps anyway); the backward pass through time
    stays step-major, steps in reverse (None: the workload's ``schedule``). ``update``:
    ``per_batch`` or ``per_sample``; ``per_step`` is refused: BPTT's gradient exists only after the
    backward pass through every step."""

    optimizer: Optimizer = "adam"
    schedule: Schedule | None = None
    update: UpdatePolicy = "per_batch"

    @field_validator("update")
    @classmethod
    def _no_per_step(cls, v: str) -> str:
        if v == "per_step":
            raise ValueError("per_step is not legal for BPTT: its weight gradient exists only after the "
                             "backward pass through all T steps (use per_batch or per_sample)")
        return v


class LocalRuleParams(Strict):
    """Eligibility-trace parameters shared by S-TLLR and TESS (docs/math.md §3)."""

    lambda_pre: Fraction = 0.5
    lambda_post: Fraction = 0.2
    alpha_pre: float = 1.0
    alpha_post: float = 1.0
    window: Steps | None = None
    optimizer: Optimizer = "adam"
    #: None: the workload's ``schedule`` (docs/dataflow.md)
    schedule: Schedule | None = None
    #: ``per_step``: no gradient accumulator, the weights change at every learning step
    update: UpdatePolicy = "per_batch"


class STLLRParams(LocalRuleParams):
    """S-TLLR: temporally local traces, learning signal back-propagated within each step.

    ``schedule: layer_major`` is refused: S-TLLR's learning signal at step t is back-propagated
    from the layers above at the same step t, so a layer cannot finish its T steps before the
    layers above have run them (a workload-wide ``layer_major`` leaves S-TLLR step-major and the
    summary says so)."""

    @field_validator("schedule")
    @classmethod
    def _step_major(cls, v: str | None) -> str | None:
        if v == "layer_major":
            raise ValueError("layer_major is not legal for S-TLLR: its learning signal at step t comes "
                             "from the layers above at the same step t (use step_major)")
        return v


class TESSParams(LocalRuleParams):
    """TESS: traces plus layer-local learning-signal generators (LSG) with fixed B_l.

    ``lsg_pool``: s_l per spiking block (conv blocks; ignored for linear blocks, whose latent is
    the block output itself). ``lsg_matrix``: ``stored`` keeps B_l in memory at 1 bit per entry,
    ``generated`` regenerates it on the fly (no storage, no reads).
    """

    lsg_pool: list[PositiveInt] | None = None
    lsg_matrix: Literal["stored", "generated"] = "stored"


class Rules(Strict):
    """The rules to compare; a rule given as ``null`` or ``{}`` takes its defaults."""

    bptt: BPTTParams | None = None
    stllr: STLLRParams | None = None
    tess: TESSParams | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        if isinstance(data, list):  # [bptt, tess] shorthand is not offered: one way to do it
            raise ValueError("rules must be a mapping such as {bptt: {}, tess: {lambda_pre: 0.5}}")
        if isinstance(data, dict):
            return {k: ({} if v is None else v) for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _some(self) -> "Rules":
        if not self.enabled():
            raise ValueError("at least one rule is required (bptt, stllr, tess)")
        return self

    def enabled(self) -> dict[str, LocalRuleParams | BPTTParams]:
        """The enabled rules in the canonical order bptt, stllr, tess."""
        return {k: getattr(self, k) for k in RULE_NAMES if getattr(self, k) is not None}


class DenseActivity(Strict):
    """Every neuron and every input element is active every step (the paper's upper bound)."""

    source: Literal["dense"]


class RatesActivity(Strict):
    """Firing rates: ``input`` for the input events, ``layers`` per spiking layer name, else
    ``default``. Expected counts, assuming spikes spread uniformly over space."""

    source: Literal["rates"]
    input: Fraction = 1.0
    default: Fraction = 0.1
    layers: dict[str, Fraction] = Field(default_factory=dict)


class MeasuredActivity(Strict):
    """Run the functional engine's forward pass over ``samples`` samples and use the real
    per-layer, per-step counts. ``weights``: a W.npz (the ``tess-sim grad --weights`` format),
    else the seeded initialisation of ``training.init``; ``data``: a D.npz (the ``--data``
    format), else the workload's ``data`` section. Paths are relative to the workload file."""

    source: Literal["measured"]
    samples: Annotated[int, Field(gt=0, le=L.MAX_BATCH)] = 16
    seed: Seed = 0
    weights: str | None = None
    data: str | None = None


class FileActivity(Strict):
    """Per-layer, per-step counts recorded elsewhere: an activity CSV (see
    :data:`simulator.activity.FILE_COLUMNS`), relative to the workload file."""

    source: Literal["file"]
    path: str


Activity = Annotated[Union[DenseActivity, RatesActivity, MeasuredActivity, FileActivity],
                     Field(discriminator="source")]
ACTIVITY_SOURCES = ("dense", "rates", "measured", "file")


class Data(Strict):
    """Where samples come from (for measured activity and training).

    ``digits``: scikit-learn's bundled 8×8 digits (1,347 train / 450 test, fixed split), rate
    coded over T; ``npz``: ``path`` to a D.npz (``x [T, N, *shape]``, ``labels [N]``);
    ``dvsgesture`` | ``cifar10dvs`` | ``npy``: event recordings under ``root``, framed to
    ``input.shape`` over T (``mode``, ``bin_us``, ``events_per_frame``, ``last``,
    ``convention``); ``synthetic``: seeded DVS-like recordings written in a real format
    (``layout``) and read back (``duration_us``, ``gap_us``). Event frames are binarised
    (a pixel spikes when it saw ≥ 1 event in the bin) for ``encoding: spikes``.
    """

    format: Literal["digits", "npz", "dvsgesture", "cifar10dvs", "npy", "synthetic"]
    path: str | None = None
    root: str | None = None
    mode: Literal["time", "count"] | None = None
    bin_us: PositiveInt | None = None
    events_per_frame: PositiveInt | None = None
    last: Literal["include", "drop"] | None = None
    convention: str | None = None
    layout: Literal["dvsgesture", "cifar10dvs", "npy"] | None = None
    duration_us: PositiveInt | None = None
    gap_us: NonNegInt | None = None

    @model_validator(mode="after")
    def _paths(self) -> "Data":
        if self.format == "npz" and not self.path:
            raise ValueError("format npz needs 'path' (a D.npz file)")
        if self.format in ("dvsgesture", "cifar10dvs", "npy") and not self.root:
            raise ValueError(f"format {self.format} needs 'root' (the dataset folder)")
        return self


class Training(Strict):
    """``tess-sim train`` settings: epochs, Adam/SGD learning rate (the rule's optimizer),
    mini-batch (default ``input.batch``), seed, weight initialisation (see
    :func:`simulator.functional.network.init_scheme`), and for event data the number of
    training and test samples (default 32 and 8 per class; digits: its fixed split, or its
    first that many)."""

    epochs: Annotated[int, Field(gt=0, le=1_000_000)] = 20
    lr: Positive = 2e-3
    batch: Annotated[int, Field(gt=0, le=L.MAX_BATCH)] | None = None
    seed: Seed = 0
    init: Literal["paper", "torch_default"] = "paper"
    control: bool = True
    train_samples: Annotated[int, Field(gt=0, le=1_000_000)] | None = None
    test_samples: Annotated[int, Field(gt=0, le=1_000_000)] | None = None


class Report(Strict):
    """Report options: the T range of the complexity plot (powers of two) and plotting on/off."""

    complexity_T: Annotated[list[Steps], Field(min_length=2, max_length=2)] = [1, 1024]
    plots: bool = True


# --------------------------------------------------------------------------- hardware
#: the paper's counting convention: every value is 4 bytes (precision key ``fp32``)
PAPER_BITS = 32


class Precision(Strict):
    """Bit widths of stored values."""

    weight: Bits = 32
    membrane: Bits = 32
    trace: Bits = 32
    gradient: Bits = 32
    spike: Bits = 1
    input: Bits = 32
    lsg: Bits = 1

    def bits(self, key: str) -> int:
        """Bit width of a precision key of a rule program's Count or Hold: a field of this table
        (``weight``, ``membrane``, …) or ``fp32`` (the paper's 4-byte value, :data:`PAPER_BITS`)."""
        return PAPER_BITS if key == "fp32" else int(getattr(self, key))


#: the loop dimensions of a tensor contraction (docs/dataflow.md): batch, time, output channels,
#: input channels, output rows / columns, filter rows / columns
LOOP_DIMS = ("B", "T", "K", "C", "OY", "OX", "FY", "FX")


class PE(Strict):
    """Processing-element array of one core: units, cycles per op kind, and its dataflow.

    ``parallelism`` says how the array spreads a layer's ops over its ``units`` PEs:

    - ``ideal`` (default): work-conserving, any op lands on any PE; a Work's compute takes
      ops × cycles_per_op / units cycles;
    - ``output_channels``: output-stationary (SATA-like systolic array): the array maps one output
      channel (conv) or output feature (linear, readout) of the layer per PE, so a layer with
      lanes = C_out channels keeps u = min(1, lanes / units) of the PEs busy and every op of that
      layer's Works takes cycles_per_op / (units · u) cycles (fewer channels than PEs leave PEs idle).

    Counts never depend on it, only cycles.
    """

    units: HwCount = 64
    cycles_per_mac: HwCount = 1
    cycles_per_ac: HwCount = 1
    cycles_per_op: dict[str, HwCount] = Field(default_factory=dict)
    #: cycles to accept one input address event before its synaptic operations (ODIN: 1)
    event_push_cycles: HwCount0 = 0
    parallelism: Literal["ideal", "output_channels"] = "ideal"
    #: ``mapped`` dataflow (docs/dataflow.md): the PE array's rows × columns (units = their product)
    array: tuple[HwCount, HwCount] | None = None
    #: ``mapped``: the loops unrolled on the array — ``auto`` (the mapper chooses, output dims
    #: only: output-stationary) or {dim: factor}, one entry per array axis in order (e.g. {OX: 16, K: 8})
    spatial: Literal["auto"] | dict[str, HwCount] = "auto"
    #: ``mapped``: register file per PE, bits
    rf_bits: Annotated[int, Field(ge=0, le=L.MAX_CAPACITY_BYTES)] = 256
    #: ops on a zero operand — executed (none), gated (no energy), skipped (no energy, no cycle): a
    #: ``mapped`` array's forward spikes, and on both dataflows the learning ops whose operands the
    #: activity measured (docs/dataflow.md, Zeros)
    zero: Literal["none", "gate", "skip"] = "none"

    @field_validator("cycles_per_op")
    @classmethod
    def _op_kinds(cls, v: dict[str, int]) -> dict[str, int]:
        for kind in v:
            if kind not in OP_KINDS:
                hint = difflib.get_close_matches(kind, OP_KINDS, n=1)
                raise ValueError(f"unknown op kind '{kind}'" + (f" (did you mean '{hint[0]}'?)" if hint
                                                                 else f" (known: {', '.join(OP_KINDS)})"))
        return v

    @model_serializer(mode="wrap")
    def _derived_units(self, handler):
        """With ``array``, ``units`` is derived (rows × columns): a dump leaves it out, so that a
        dumped workload with another ``array`` (a sweep point) reloads without a contradiction."""
        out = handler(self)
        if self.array is not None and isinstance(out, dict):
            out.pop("units", None)
        return out

    @field_validator("spatial")
    @classmethod
    def _spatial_dims(cls, v):
        if isinstance(v, dict):
            for dim in v:
                if dim not in LOOP_DIMS:
                    raise ValueError(f"unknown loop dimension '{dim}' (known: {', '.join(LOOP_DIMS)})")
            if not 1 <= len(v) <= 2:
                raise ValueError("give one or two dimensions, one per array axis (e.g. {OX: 16, K: 8})")
        return v



class Memory(Strict):
    """One memory: SRAM (capacity in bytes) or DRAM (capacity may be null = unbounded).

    Ports, each ``word_bits`` wide per cycle: ``rw_ports`` serve a read or a write each
    (``ports`` is their older name: give one of the two), ``read_ports`` only reads,
    ``write_ports`` only writes (SATA's CACTI buffers: 1R + 1W). Default: one read/write port."""

    name: str
    kind: Literal["sram", "dram"] = "sram"
    capacity_bytes: Annotated[int, Field(gt=0, le=L.MAX_CAPACITY_BYTES)] | None = None
    word_bits: Bits = 32
    ports: HwCount0 | None = None
    rw_ports: HwCount0 | None = None
    read_ports: HwCount0 = 0
    write_ports: HwCount0 = 0
    read_latency: HwCount0 = 1
    write_latency: HwCount0 = 1
    bandwidth_bytes_per_cycle: Positive | None = None

    @model_validator(mode="after")
    def _capacity(self) -> "Memory":
        if self.kind == "sram" and self.capacity_bytes is None:
            raise ValueError(f"memory '{self.name}': an SRAM needs capacity_bytes")
        if self.ports is not None and self.rw_ports is not None:
            raise ValueError(f"memory '{self.name}': give rw_ports or ports (its older name), not both")
        rw = self.rw_ports if self.rw_ports is not None else self.ports
        if rw is None:
            rw = 0 if (self.read_ports or self.write_ports) else 1
        if not (rw or self.read_ports) or not (rw or self.write_ports):
            raise ValueError(f"memory '{self.name}': needs a port that reads and one that writes "
                             "(rw_ports, or read_ports and write_ports)")
        object.__setattr__(self, "rw_ports", rw)
        object.__setattr__(self, "ports", None)  # one name once resolved (a dump reloads as it is)
        return self

    @property
    def directional(self) -> bool:
        """True when the memory has read-only or write-only ports (its cycles depend on the mix)."""
        return bool(self.read_ports or self.write_ports)


class Router(Strict):
    """Event router / NoC between cores."""

    packet_bits: Bits = 32
    packets_per_cycle: Positive = 1.0
    hop_latency: HwCount0 = 1




class Hardware(Strict):
    """Hardware description (docs/simpy.md). Parsed and validated here; timing uses it in the SimPy engine."""

    name: str = "custom"
    source: str | None = None
    clock_mhz: Annotated[float, Field(ge=L.MIN_CLOCK_MHZ, le=L.MAX_CLOCK_MHZ, description=(
        f"MHz, {L.MIN_CLOCK_MHZ:g}..{L.MAX_CLOCK_MHZ:g}"))] = 200.0
    cores: Annotated[int, Field(gt=0, le=L.MAX_CORES)] = 1
    #: ``auto``: contiguous groups of layers; ``balanced``: any layers on any core (greedy LPT);
    #: or one core index per layer with weights (:mod:`simulator.mapping`)
    mapping: Literal["auto", "balanced"] | list[NonNegInt] = "auto"
    pe: PE = PE()
    memories: Annotated[list[Memory], Field(min_length=1)] = [Memory(name="dram", kind="dram")]
    router: Router = Router()
    precision: Precision = Precision()
    placement: dict[str, str] = Field(default_factory=dict)
    spill: Literal["streamed", "proportional"] = "streamed"
    #: ``event_driven``: every synaptic event fetches its weight and updates its neuron (ODIN,
    #: ReckOn, Loihi); ``mapped``: a PE array whose tensor contractions a mapper tiles over
    #: register files, buffers and DRAM (docs/dataflow.md)
    dataflow: Literal["event_driven", "mapped"] = "event_driven"

    @model_validator(mode="after")
    def _placement(self) -> "Hardware":
        names = [m.name for m in self.memories]
        if len(set(names)) != len(names):
            raise ValueError(f"memory names must be unique, got {names}")
        if RF in names:
            raise ValueError(f"memory name '{RF}' is reserved for the PEs' register files (pe.rf_bits)")
        if self.pe.array is not None:
            units = self.pe.array[0] * self.pe.array[1]
            if "units" in self.pe.model_fields_set and self.pe.units != units:
                raise ValueError(f"pe.units is {self.pe.units} but pe.array {list(self.pe.array)} has {units} "
                                 "PEs (give one of the two)")
            object.__setattr__(self.pe, "units", units)
        if self.dataflow == "mapped":
            if self.pe.array is None:
                raise ValueError("dataflow 'mapped' needs pe.array: [rows, columns]")
            if dram_of(self) is None:
                raise ValueError("dataflow 'mapped' needs a memory of kind 'dram' (spilled tensors live there)")
            if self.pe.parallelism != "ideal":
                raise ValueError("pe.parallelism is the event_driven model's; a mapped array's spatial "
                                 "unrolling is pe.spatial")
        for kind, mem in self.placement.items():
            if kind not in BUFFER_KINDS:
                hint = difflib.get_close_matches(kind, BUFFER_KINDS, n=1)
                raise ValueError(f"placement: unknown buffer kind '{kind}'"
                                 + (f" (did you mean '{hint[0]}'?)" if hint else ""))
            if mem not in names:
                raise ValueError(f"placement.{kind}: no memory named '{mem}' (memories: {', '.join(names)})")
        if isinstance(self.mapping, list) and any(c >= self.cores for c in self.mapping):
            raise ValueError(f"mapping names a core >= cores ({self.cores})")
        return self


#: the memory name of the PEs' register files in the ledger (``mapped`` dataflow)
RF = "rf"


def dram_of(hw: "Hardware") -> str | None:
    """The first DRAM memory's name, or None."""
    return next((m.name for m in hw.memories if m.kind == "dram"), None)


def rf_memory(hw: "Hardware") -> Memory:
    """The register file of one PE as a memory (``mapped``): ``pe.rf_bits`` of capacity, priced by
    every cost model as an SRAM of that size (docs/dataflow.md); one 16-bit word per access."""
    return Memory(name=RF, kind="sram", capacity_bytes=max(1, hw.pe.rf_bits // 8), word_bits=16,
                  read_latency=0, write_latency=0)


# --------------------------------------------------------------------------- simulation
class Simulation(Strict):
    """Engine choice and how much work one SimPy event stands for (docs/simpy.md).

    ``granularity``: ``event`` — one task per input spike for event-driven synaptic work (other
    phases in tiles of ``tile`` neurons); ``tile`` — tiles of ``tile`` input spikes or neurons;
    ``phase`` — one task per phase of a layer per step.
    """

    engine: Literal["simpy", "analytical"] = "simpy"
    granularity: Literal["event", "tile", "phase"] = "tile"
    tile: Annotated[int, Field(gt=0, le=L.MAX_LAYER_ELEMENTS)] = 256
    #: what the mapper of a ``mapped`` dataflow minimises per contraction (docs/dataflow.md):
    #: energy (pJ, the first cost model), latency (cycles) or edp (their product)
    objective: Literal["energy", "latency", "edp"] = "energy"


# --------------------------------------------------------------------------- the workload
class Workload(Strict):
    """A whole workload file (README, Workloads). Sizes are limited (docs/limits.md, simulator/limits.py);
    every number is finite; a key given twice is refused."""

    name: Annotated[str, Field(description=(
        f"one safe folder name (out/<name>/): 1..{L.MAX_NAME} characters of A-Z a-z 0-9 . _ -, "
        "not '.' or '..'"))]
    dataset: str | None = None
    description: str | None = None
    input: Input
    neuron: Neuron = Neuron()
    network: Network
    rules: Rules
    activity: Activity = DenseActivity(source="dense")
    data: Data | None = None
    training: Training = Training()
    hardware: Hardware = Hardware()
    # a cost model by name / module:Class / table path, or {model: NAME, **parameters} (cost_models/);
    # at least one: an empty list is refused (``counts`` reports the ledger's counts unpriced)
    cost_models: Annotated[list[str | dict[str, Any]], Field(min_length=1, description=(
        "at least one cost model; [counts] prices nothing and reports the ledger's counts"))] = ["counts"]
    report: Report = Report()
    simulation: Simulation = Simulation()
    #: time-step schedule of every rule that does not set its own (docs/dataflow.md)
    schedule: Schedule = "step_major"
    sweep: dict[str, Any] | None = None  # KEY: values or a range spec, as `tess-sim sweep --set`
    _source: str | None = PrivateAttr(default=None)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        """A name is a folder name under out/: refused unless it is one safe path component."""
        if not v:
            raise ValueError("must not be empty")
        if len(v) > L.MAX_NAME:
            raise ValueError(f"is {len(v)} characters long; at most {L.MAX_NAME} (it names the folder out/<name>/)")
        bad = sorted(set(re.sub(r"[A-Za-z0-9._-]", "", v)))
        if bad:
            raise ValueError(f"may contain only A-Z a-z 0-9 . _ - (it names the folder out/<name>/), "
                             f"got {''.join(bad)!r} in {v!r}")
        if v in (".", ".."):
            raise ValueError(f"'{v}' is not a folder name (out/<name>/ would be outside out/)")
        return v

    @field_validator("cost_models", mode="before")
    @classmethod
    def _some_model(cls, v: Any) -> Any:
        if isinstance(v, list) and not v:
            raise ValueError("is empty: give at least one cost model, e.g. [counts] (counts reports the "
                             "ledger's counts unpriced)")
        return v

    @field_validator("sweep")
    @classmethod
    def _sweep(cls, v: dict | None) -> dict | None:
        if v is not None and not all(isinstance(k, str) for k in v):
            raise ValueError("keys must be dotted workload keys such as input.T")
        return v

    @property
    def source(self) -> str | None:
        """The file this workload was loaded from (None when built in memory)."""
        return self._source

    @property
    def T(self) -> int:
        return self.input.T


# --------------------------------------------------------------------------- loading
def _format_loc(loc: tuple) -> str:
    """('network','layers',2,'conv','kernel') -> 'network.layers[2].kernel' (union tags dropped)."""
    out = ""
    prev: object = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif (isinstance(prev, int) and part in LAYER_TYPES) or (prev == "activity" and part in ACTIVITY_SOURCES):
            pass  # the discriminated-union tag pydantic inserts
        else:
            out += ("." if out else "") + str(part)
        prev = part
    return out


def _reason(err: dict) -> str:
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if err["type"] == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag")
        expected = err.get("ctx", {}).get("expected_tags", "")
        names = [t.strip(" '") for t in str(expected).split(",")]
        hint = difflib.get_close_matches(str(tag), names, n=1, cutoff=0.5)
        msg = f"unknown type '{tag}'" + (f" (did you mean '{hint[0]}'?)" if hint else "") + f"; expected one of {expected}"
    elif err["type"] == "missing":
        msg = "required field is missing"
    if "input" in err and err["type"] not in ("missing", "union_tag_invalid", "value_error") \
            and not isinstance(err["input"], (dict, list)):
        msg += f" (got {err['input']!r})"
    return msg


def validation_error(path: str | Path, exc: ValidationError) -> UserError:
    """Turn a pydantic error into the one-line UserError (first error, with a count of others)."""
    errs = exc.errors(include_url=False)
    first = errs[0]
    more = f" (and {len(errs) - 1} more error{'s' if len(errs) > 2 else ''})" if len(errs) > 1 else ""
    return UserError(str(path), _format_loc(first["loc"]) or "(top level)", _reason(first) + more)


# --------------------------------------------------------------------------- file references
def shipped_dir() -> Path:
    """The folder of the shipped workloads (the ``workloads`` package beside ``simulator``)."""
    return Path(__file__).resolve().parent.parent / "workloads"


def shipped_names() -> list[str]:
    """Stems of the shipped workloads/*.yaml (``tess-sim run dvs``)."""
    return sorted(p.stem for p in shipped_dir().glob("*.yaml"))


def find_workload(path: str | Path) -> Path:
    """A workload file: ``path`` if it exists (a file path wins), else the shipped workload of
    that name (``dvs`` or ``dvs.yaml``); UserError naming the shipped names otherwise."""
    p = Path(path)
    if p.is_file() or "/" in str(path) or "\\" in str(path) or len(p.parts) != 1:
        return p
    stem = p.name[:-5] if p.name.endswith(".yaml") else p.name
    if stem in shipped_names():  # a folder of that name in the current directory is no workload
        return shipped_dir() / f"{stem}.yaml"
    if p.exists():
        return p
    raise UserError(str(path), "", "file not found, and not the name of a shipped workload "
                    f"(shipped: {', '.join(shipped_names())})")


def _candidates(ref: str, base: Path | None) -> list[Path]:
    """Where a referenced path may be: itself when absolute, else relative to ``base`` (the
    workload's folder), then to the current folder."""
    p = Path(ref).expanduser()
    return [p] if p.is_absolute() else ([base / p] if base is not None else []) + [Path.cwd() / p]


def _file_ref(ref: str, base: Path | None) -> Path | None:
    """A referenced file (:func:`_candidates`, the first that is a file); None when none is."""
    return next((c for c in _candidates(ref, base) if c.is_file()), None)


def _resolve_hardware(data: dict, base: Path | None, where: str) -> dict:
    """Replace ``hardware: FILE`` by the file's mapping (relative to the workload's folder, else
    to the current folder)."""
    hw = data.get("hardware")
    if isinstance(hw, str):
        hw_path = _file_ref(hw, base)
        if hw_path is None:
            looked = " and ".join(str(b / hw) for b in ([base] if base is not None else []) + [Path.cwd()])
            raise UserError(where, "hardware", f"hardware file '{hw}' not found (looked at {looked})")
        hw_data = read_yaml(hw_path)
        try:
            Hardware.model_validate(hw_data)
        except ValidationError as exc:
            raise validation_error(hw_path, exc) from None
        data = dict(data, hardware=hw_data)
    return data


def _resolve_nir(data: dict, base: Path | None, where: str) -> dict:
    """Replace ``network: {nir: FILE, dt: DT}`` by the graph's layer list (docs/nir.md): each
    spiking layer gets a ``neuron`` override where its parameters differ from the workload's
    ``neuron``; ``input.shape`` / ``input.classes`` come from the graph when not given, and must
    agree with it when given. ``nir`` becomes the file's absolute path (a dump reloads anywhere)."""
    net = data.get("network")
    if not isinstance(net, dict) or net.get("nir") is None:
        return data
    ref = net["nir"]
    if not isinstance(ref, str):
        return data  # the schema reports the type
    if net.get("layers") is not None:
        raise UserError(where, "network", "give either layers or nir (a NIR graph), not both")
    path = _file_ref(ref, base)
    if path is None:
        looked = " and ".join(dict.fromkeys(str(b / ref) for b in ([base] if base is not None else []) + [Path.cwd()]))
        raise UserError(where, "network.nir", f"NIR file '{ref}' not found (looked at {looked})")
    dt = net.get("dt")
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not dt > 0:
        if dt is not None:
            return data  # the schema reports the type or the range
    graph = read_graph(path)
    if dt is None:
        raise UserError(where, "network.dt", "required with network.nir: the seconds per time step of the "
                        "graph's neurons (docs/nir.md)" + dt_hint(graph))
    imp = graph_to_network(graph, float(dt), str(path))
    try:
        base_neuron = Neuron.model_validate(data.get("neuron") or {})
    except ValidationError:
        return data  # the schema reports the neuron section (before the network)
    inp = dict(data.get("input") or {})
    for key, value in (("shape", list(imp.input_shape)), ("classes", imp.classes)):
        given = inp.get(key)
        if given is None:
            inp[key] = value
        elif given != value:
            raise UserError(where, f"input.{key}", f"is {given}, the NIR graph '{ref}' has {value}")
    net = dict(net, nir=str(path.resolve()), layers=layers_with_overrides(imp, base_neuron))
    return dict(data, network=net, input=inp)


def _base_of(path: str | Path, source: str | None) -> Path | None:
    """The folder relative paths of a workload resolve against (None when built in memory)."""
    for p in (source, path):
        if p and Path(p).is_file():
            return Path(p).resolve().parent
    return None


def _check_files(wl: Workload, where: str) -> None:
    """Files the workload names must be files, not folders (the loaders would fail with a traceback)."""
    base = _base_of(where, wl.source)
    refs = {"data.path": wl.data.path if wl.data else None}
    act = wl.activity
    if isinstance(act, FileActivity):
        refs["activity.path"] = act.path
    if isinstance(act, MeasuredActivity):
        refs.update({"activity.weights": act.weights, "activity.data": act.data})
    for field, rel in refs.items():
        if rel:
            p = Path(rel) if Path(rel).is_absolute() or base is None else base / rel
            if p.is_dir():
                raise UserError(where, field, f"'{rel}' is a folder ({p}), expected a file")


def workload_from_dict(data: dict, path: str | Path = "<workload>", source: str | None = None) -> Workload:
    """Validate a workload mapping against the schema (nothing is built: network shapes, rule
    parameters and activity layer names are checked by :func:`tess_sim.api.check`). ``hardware:
    FILE`` is read (relative to ``source`` or ``path``, else the current folder). ``source``: the
    file it came from (relative paths inside resolve against it)."""
    data = _resolve_hardware(data, _base_of(path, source), str(path))
    data = _resolve_nir(data, _base_of(path, source), str(path))
    try:
        wl = Workload.model_validate(data)
    except ValidationError as exc:
        raise validation_error(path, exc) from None
    wl._source = source  # before the checks: paths in the workload are relative to its file
    _check_files(wl, str(path))
    return wl


def load_workload(path: str | Path, hardware: str | Path | None = None,
                  overrides: dict[str, Any] | None = None) -> Workload:
    """Read a workload YAML file (or a shipped workload by name, ``dvs``) and validate it against the
    schema; raises UserError on any mistake (:func:`tess_sim.api.load` adds the model checks).

    Relative paths inside the workload (``hardware: hw/edge.yaml``) are relative to the file.
    ``hardware``: a hardware YAML file that replaces the workload's hardware. ``overrides``:
    dotted keys set after loading (``{"activity.source": "measured"}``, ``T`` = ``input.T``,
    ``hardware: hw/odin.yaml`` and the file keys of :data:`PATH_KEYS` relative to the workload's
    folder, else to the current one).
    """
    path = find_workload(path)
    data = read_yaml(path)
    if hardware is not None:
        if not Path(hardware).is_file():
            raise UserError(str(hardware), "", "hardware file not found (--hardware)")
        data = dict(data, hardware=str(Path(hardware).resolve()))
    base = _base_of(path, None)
    for key, value in (overrides or {}).items():
        value = override_path(key, value, base)
        data = set_dotted(_resolve_hardware(data, base, str(path)), key, value)
    return workload_from_dict(data, path, source=str(path))


#: workload keys naming a file (or, for ``data.root``, a folder)
PATH_KEYS = ("activity.weights", "activity.data", "activity.path", "data.path", "data.root")


def override_path(key: str, value: Any, base: Path | None) -> Any:
    """A ``--set`` path (:data:`PATH_KEYS`) as given on the command line: relative to the
    workload's folder when it is there, else to the current folder (:func:`_candidates`, as
    ``hardware``); the current folder's becomes absolute, so the workload resolves it as the user
    meant. A path found in neither is an error naming both (a ``data.root`` may be a folder still
    to write); what is found is checked later (a folder where a file is due, say)."""
    if key not in PATH_KEYS or not isinstance(value, str) or not value:
        return value
    places = _candidates(value, base)
    found = next((p for p in places if p.exists()), None)
    if found is not None:
        return value if found == places[0] else str(found.resolve())
    if key == "data.root":
        return value
    looked = " and ".join(map(str, places))
    raise UserError("--set", key, f"file '{value}' not found (looked at {looked})")


# --------------------------------------------------------------------------- --set
#: a section's kind key: switching it keeps only the keys the new kind takes
DATA_KEYS = {"digits": set(), "npz": {"path"},
             **{f: {"root", "mode", "bin_us", "events_per_frame", "last"} | extra
                for f, extra in (("dvsgesture", set()), ("cifar10dvs", {"convention"}), ("npy", set()),
                                 ("synthetic", {"layout", "duration_us", "gap_us"}))}}


def _kind_keys(section: str, kind_key: str, kind: Any) -> set[str] | None:
    """The keys a section of the given kind accepts (None: not a kind switch, keep all)."""
    if (section, kind_key) == ("activity", "source"):
        model = {m.model_fields["source"].annotation.__args__[0]: m
                 for m in (DenseActivity, RatesActivity, MeasuredActivity, FileActivity)}.get(kind)
        return set(model.model_fields) if model else None
    if (section, kind_key) == ("data", "format") and kind in DATA_KEYS:
        return DATA_KEYS[kind] | {"format"}
    return None  # simulation.engine: granularity and tile are valid (unused) for the analytical engine


def layer_names(layers: list) -> list[str]:
    """The name of every layer (given, else the default ``<type><n>``, see the module doc)."""
    seen: dict[str, int] = {}
    out = []
    for layer in layers:
        kind = layer.get("type") if isinstance(layer, dict) else getattr(layer, "type", None)
        seen[kind] = seen.get(kind, 0) + 1
        given = layer.get("name") if isinstance(layer, dict) else getattr(layer, "name", None)
        out.append(given or ("readout" if kind == "readout" else f"{kind}{seen[kind]}"))
    return out


def _index(items: list, part: str, path: str, where: str) -> int:
    """An element of a list: by index (``0``) or by name (a layer's or a memory's ``name``)."""
    if part.isdigit():
        if int(part) >= len(items):
            raise UserError(where, f"{path}.{part}", f"index out of range (0..{len(items) - 1})")
        return int(part)
    names = layer_names(items) if path.endswith("layers") else \
        [x.get("name") if isinstance(x, dict) else None for x in items]
    if part in names:
        return names.index(part)
    hint = difflib.get_close_matches(part, [n for n in names if n], n=1)
    raise UserError(where, f"{path}.{part}", "no element of that name" + (f" (did you mean '{hint[0]}'?)" if hint
                    else "") + f"; names: {', '.join(map(str, names))}, or an index 0..{len(items) - 1}")


def set_dotted(data: dict, key: str, value: Any, where: str = "--set") -> dict:
    """Return a deep copy of ``data`` with the dotted ``key`` set (``T`` means ``input.T``).

    List elements are addressed by index or name (``network.layers.conv2.out_channels``,
    ``network.layers.0.kernel``, ``hardware.memories.dram.word_bits``). Switching a section's kind
    (``activity.source``, ``data.format``) drops the keys the new kind does not take.
    """
    import copy

    data = copy.deepcopy(data)
    if key == "T":
        key = "input.T"
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        path = ".".join(parts[:i])
        last = i == len(parts) - 1
        if isinstance(node, list):
            part = _index(node, part, path, where)
        elif not isinstance(node, dict):
            raise UserError(where, path, f"is {node!r} here, not a mapping: cannot set {key}")
        if last:
            break
        nxt = node[part] if isinstance(node, list) else node.get(part)
        if nxt is None:
            nxt = {}
            node[part] = nxt
        node = nxt
    if isinstance(node, dict) and node.get(part) != value:
        keep = _kind_keys(".".join(parts[:-1]), part, value)
        if keep is not None:
            for k in [k for k in node if k not in keep]:
                del node[k]
    node[part] = value
    return data


__all__ = ["Workload", "Hardware", "load_workload", "workload_from_dict", "set_dotted", "override_path",
           "find_workload", "shipped_names", "layer_names", "validation_error", "LAYER_TYPES"]
