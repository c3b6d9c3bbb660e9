"""NIR (Neuromorphic Intermediate Representation, the ``nir`` package 1.0) to and from our network.

One convention, both ways (docs/nir.md). NIR's LIF is the ODE ``tau·dv/dt = (v_leak − v) + r·I``,
a spike when ``v > v_threshold``, then ``v = v_reset``; its IF is ``dv/dt = r·I``. With the time
step ``dt`` (seconds) and forward Euler, the input of step t acting in step t (snnTorch's
``export_to_nir``: ``tau = dt/(1 − beta)``, ``r = tau/dt``, ``v_leak = 0``)::

    v[t] = (1 − dt/tau)·v[t−1] + (r·dt/tau)·I[t]          (IF: v[t] = v[t−1] + r·dt·I[t])

which is our ``u[t] = beta·u+[t−1] + I[t]`` (docs/math.md §1) with the membrane in units of
``g = r·dt/tau`` (IF: ``g = r·dt``)::

    beta  = 1 − dt/tau          (IF: 1)
    theta = v_threshold / g     reset: zero (u+ = u·(1 − o), NIR's reset to v_reset = 0)

exactly (the zero reset and the strict threshold are unchanged by the scale), so the weights are
the graph's own. ``v_leak ≠ 0``, ``v_reset ≠ 0``, ``dt > tau`` (beta < 0) and parameters that
differ within a layer are refused; so is every node or edge our layer list cannot express.
``SumPool2d(k)`` is ``k²·AvgPool2d(k)``: the factor k² is folded into the weights of the next
layer (its bias is unchanged) — exact up to the rounding of one multiplication (exact for k a
power of two).

Reading a ``.nir`` file never runs code: it is HDF5, read by h5py into arrays and strings (no
pickle), and every node type is checked against NIR's own list before ``nir`` builds the graph.
``nir`` is an optional extra (``pip install -e ".[nir]"``): :func:`require_nir` says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.shapes import conv_out_hw

INSTALL_HINT = 'the NIR support needs the nir package: pip install -e ".[nir]"'
#: the node types of NIR 1.0's serialisation (nir.ir), the only ``type`` values a file may hold
NIR_TYPES = ("NIRGraph", "Input", "Output", "Affine", "Linear", "Scale", "Conv1d", "Conv2d", "Delay",
             "Flatten", "CubaLI", "CubaLIF", "I", "IF", "LI", "LIF", "AvgPool2d", "SumPool2d", "Threshold")
#: why a node type has no place in our layer list (one line each)
REFUSED = {
    "CubaLIF": "current-based synapse (tau_syn): tess-sim's LIF has no synaptic current state (docs/math.md §1)",
    "CubaLI": "current-based leaky integrator: tess-sim has no synaptic current state and no non-spiking "
              "hidden neurons",
    "LI": "leaky integrator (no spikes): tess-sim's neurons spike and its readout is a memoryless linear layer",
    "I": "integrator (no spikes): tess-sim's neurons spike and its readout is a memoryless linear layer",
    "Delay": "synaptic delays are not modelled by tess-sim",
    "Scale": "an elementwise scale between layers is not a tess-sim layer",
    "Threshold": "a bare threshold without a membrane is not a tess-sim neuron",
    "Conv1d": "1-D convolution: tess-sim convolutions are 2-D (Conv2d)",
    "NIRGraph": "a nested graph (e.g. a recurrent layer exported as a subgraph): tess-sim networks are "
                "feed-forward chains",
}
#: the discretisation, as the commands print it (``dt`` in seconds)
CONVENTION = ("forward Euler with dt = {dt:g} s, the input of step t acting in step t (snnTorch's export "
              "convention): beta = 1 - dt/tau, theta = v_threshold·tau/(r·dt) (IF: beta = 1, theta = "
              "v_threshold/(r·dt)), reset: zero (NIR's reset to v_reset = 0); docs/nir.md")
CONVENTION_EXPORT = ("forward Euler with dt = {dt:g} s (snnTorch's convention): LIF tau = dt/(1 - beta), "
                     "r = tau/dt, v_leak = 0, v_threshold = theta, v_reset = 0 (IF r = 1/dt when beta = 1); "
                     "docs/nir.md")
MAX_FILE_ARRAY_BYTES = 2 * 2**30
"""Largest total of the arrays a ``.nir`` file may hold (bytes, as stored); checked before reading."""


def require_nir(where: str):
    """The ``nir`` module, or a UserError naming the extra to install."""
    try:
        import nir
    except ImportError:  # also when sys.modules['nir'] is None (how the tests simulate its absence)
        raise UserError(where, "", INSTALL_HINT) from None
    return nir


# --------------------------------------------------------------------------- reading
def _precheck(path: Path, where: str) -> None:
    """Open the HDF5 file with h5py and check, before ``nir`` builds anything, that every
    ``type`` is a NIR 1.0 node type and that its arrays fit :data:`MAX_FILE_ARRAY_BYTES`."""
    import h5py

    total = 0
    bad: list[str] = []

    def visit(name, obj):
        nonlocal total
        if isinstance(obj, h5py.Dataset):
            total += obj.size * obj.dtype.itemsize
            if name.split("/")[-1] == "type" and obj.shape == ():
                value = obj[()]
                value = value.decode("utf8", "replace") if isinstance(value, bytes) else str(value)
                if value not in NIR_TYPES:
                    bad.append(f"{name}: {value!r}")

    try:
        with h5py.File(path, "r") as f:
            if "node" not in f:
                raise UserError(where, "", "not a NIR file (an HDF5 file without a 'node' group)")
            f["node"].visititems(visit)
    except UserError:
        raise
    except Exception as exc:  # h5py raises OSError / ValueError / KeyError for a non-HDF5 or broken file
        raise UserError(where, "", f"not a readable NIR (HDF5) file: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    if bad:
        raise UserError(where, "", f"unknown NIR node type {bad[0]} (NIR 1.0 knows {', '.join(NIR_TYPES)})")
    if total > MAX_FILE_ARRAY_BYTES:
        raise UserError(where, "", f"holds {total / 2**30:.3g} GiB of arrays, over the limit of "
                        f"{MAX_FILE_ARRAY_BYTES / 2**30:g} GiB")


def read_graph(path: str | Path, where: str | None = None):
    """The NIRGraph in the ``.nir`` file ``path`` (UserError for a missing, foreign or broken file)."""
    where = str(path) if where is None else where
    nir = require_nir(where)
    p = Path(path)
    if not p.is_file():
        raise UserError(where, "", "file not found" if not p.exists() else "is a folder, expected a .nir file")
    _precheck(p, where)
    try:
        graph = nir.read(p, type_check=False)
    except Exception as exc:  # nir raises AssertionError / TypeError / KeyError for malformed nodes
        raise UserError(where, "", f"not a readable NIR graph: {type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")) from None
    if type(graph).__name__ != "NIRGraph":
        raise UserError(where, "", f"holds a single {type(graph).__name__} node, not a NIRGraph")
    return graph


# --------------------------------------------------------------------------- neuron parameters
def _uniform(where: str, node: str, param: str, a) -> float:
    """The one value of a parameter array (refused when it differs within the layer or is not finite)."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        raise UserError(where, node, f"{param} is empty")
    if not np.all(np.isfinite(a)):
        raise UserError(where, node, f"{param} has non-finite values")
    lo, hi = float(a.min()), float(a.max())
    if lo != hi:
        raise UserError(where, node, f"{param} differs within the layer ({lo:g} .. {hi:g}): tess-sim has one "
                        "set of neuron parameters per layer")
    return lo


@dataclass(frozen=True)
class NeuronParams:
    """Our neuron of one layer: ``beta``, ``theta`` (reset is always ``zero``) and the NIR values."""

    beta: float
    theta: float
    nir: str  # "LIF tau=… r=… v_threshold=…" as read

    def override(self) -> dict:
        return {"beta": self.beta, "theta": self.theta, "reset": "zero"}


def neuron_from_nir(node, kind: str, shape: tuple[int, ...], dt: float, where: str, label: str) -> NeuronParams:
    """Our (beta, theta) of a NIR LIF / IF node over ``shape`` neurons (module doc's formulas)."""
    params = {"LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"), "IF": ("r", "v_threshold", "v_reset")}[kind]
    for p in params:
        a = np.asarray(getattr(node, p))
        if a.size != 1 and tuple(a.shape) != tuple(shape):
            raise UserError(where, label, f"{p} has shape {list(a.shape)}, the layer before it has "
                            f"{list(shape)} neurons")
    v = {p: _uniform(where, label, p, getattr(node, p)) for p in params}
    if v["v_reset"] != 0:
        raise UserError(where, label, f"v_reset = {v['v_reset']:g}: tess-sim's reset sets the membrane to 0 "
                        "(reset: zero) or subtracts; a reset to another value cannot be expressed")
    if kind == "LIF" and v["v_leak"] != 0:
        raise UserError(where, label, f"v_leak = {v['v_leak']:g}: tess-sim's membrane leaks towards 0")
    if v["r"] <= 0:
        raise UserError(where, label, f"r = {v['r']:g}: must be > 0")
    if kind == "LIF":
        if v["tau"] <= 0:
            raise UserError(where, label, f"tau = {v['tau']:g}: must be > 0")
        if dt > v["tau"]:
            raise UserError(where, label, f"tau = {v['tau']:g} s is shorter than dt = {dt:g} s: "
                            f"beta = 1 - dt/tau = {1 - dt / v['tau']:g} < 0 (give a smaller --dt / network.dt)")
        beta, gain = 1.0 - dt / v["tau"], v["r"] * dt / v["tau"]
    else:
        beta, gain = 1.0, v["r"] * dt
    theta = v["v_threshold"] / gain
    if not theta > 0 or not math.isfinite(theta):
        raise UserError(where, label, f"v_threshold = {v['v_threshold']:g} gives theta = {theta:g}: tess-sim "
                        "needs a positive threshold")
    desc = f"{kind} " + " ".join(f"{p}={v[p]:g}" for p in params)
    return NeuronParams(beta, theta, desc)


def nir_neuron_arrays(beta: float, theta: float, shape: tuple[int, ...], dt: float) -> tuple[str, dict]:
    """The NIR node (``"LIF"`` or ``"IF"`` for beta = 1) and its parameter arrays over ``shape``
    for our (beta, theta) with the zero reset: the inverse of :func:`neuron_from_nir`."""
    full = lambda x: np.full(shape, x, dtype=np.float64)  # noqa: E731
    if beta == 1.0:
        return "IF", {"r": full(1.0 / dt), "v_threshold": full(theta), "v_reset": full(0.0)}
    tau = dt / (1.0 - beta)
    return "LIF", {"tau": full(tau), "r": full(tau / dt), "v_leak": full(0.0),
                   "v_threshold": full(theta), "v_reset": full(0.0)}


# --------------------------------------------------------------------------- graph -> layers
@dataclass
class Imported:
    """A NIR graph as our network: ``layers`` (workload layer mappings, default names), the
    neuron of each spiking layer, ``weights`` (W.npz keys and shapes), and what was done."""

    input_shape: tuple[int, ...]
    layers: list[dict]
    neurons: dict[str, NeuronParams]
    weights: dict[str, np.ndarray]
    classes: int
    mapping: list[tuple[str, str]] = field(default_factory=list)  # (our layer, NIR nodes)
    notes: list[str] = field(default_factory=list)


def _label(name: str, node) -> str:
    return f"node '{name}' ({type(node).__name__})"


def chain(graph, where: str) -> list[str]:
    """The node names from the Input to the Output, refusing cycles, branches, merges and stray nodes."""
    nodes, edges = graph.nodes, [(str(a), str(b)) for a, b in graph.edges]
    for name, node in nodes.items():
        kind = type(node).__name__
        if kind == "NIRGraph":
            raise UserError(where, _label(name, node), REFUSED["NIRGraph"])
    for a, b in edges:
        for n in (a, b):
            if n not in nodes:
                raise UserError(where, f"edge '{a}' -> '{b}'", f"names no node '{n}'")
    outs: dict[str, list[str]] = {n: [] for n in nodes}
    ins: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        outs[a].append(b)
        ins[b].append(a)
    # a cycle first (a recurrent edge also makes a merge, but "recurrent" is the reason)
    state: dict[str, int] = {}
    for start in nodes:
        stack = [(start, iter(outs[start]))]
        if state.get(start):
            continue
        state[start] = 1
        while stack:
            n, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[n] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                raise UserError(where, f"edge '{n}' -> '{nxt}'", "a recurrent edge (the graph has a cycle): "
                                "tess-sim networks are feed-forward")
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(outs[nxt])))
    for n in nodes:
        if len(outs[n]) > 1:
            raise UserError(where, _label(n, nodes[n]), f"a branch ({len(outs[n])} outgoing edges: "
                            f"{', '.join(outs[n])}): tess-sim networks are a chain")
        if len(ins[n]) > 1:
            raise UserError(where, _label(n, nodes[n]), f"a merge ({len(ins[n])} incoming edges: "
                            f"{', '.join(ins[n])}): tess-sim networks are a chain")
    inputs = [n for n, node in nodes.items() if type(node).__name__ == "Input"]
    outputs = [n for n, node in nodes.items() if type(node).__name__ == "Output"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise UserError(where, "", f"the graph has {len(inputs)} Input and {len(outputs)} Output nodes; "
                        "tess-sim needs exactly one of each")
    order, n = [inputs[0]], inputs[0]
    while outs[n]:
        n = outs[n][0]
        order.append(n)
    if order[-1] != outputs[0]:
        raise UserError(where, _label(order[-1], nodes[order[-1]]), "the path from the Input ends here, "
                        f"not at the Output '{outputs[0]}'")
    stray = [m for m in nodes if m not in order]
    if stray:
        raise UserError(where, _label(stray[0], nodes[stray[0]]), "is not on the path from the Input to the Output")
    return order


def _pair(where: str, label: str, what: str, v) -> tuple[int, int]:
    """An int or (int, int) NIR argument as a pair of ints."""
    a = np.atleast_1d(np.asarray(v)).astype(np.float64)
    if a.size == 1:
        a = np.repeat(a, 2)
    if a.size != 2 or not np.all(a == np.round(a)):
        raise UserError(where, label, f"{what} {np.asarray(v).tolist()} is not one or two integers")
    return int(a[0]), int(a[1])


def _square(where: str, label: str, what: str, v) -> int:
    a, b = _pair(where, label, what, v)
    if a != b:
        raise UserError(where, label, f"{what} ({a}, {b}): tess-sim needs the same {what} on both axes")
    return a


def _conv(name, node, shape, where) -> dict:
    """Our conv layer (and its arrays) of a NIR Conv2d over the input ``shape`` (C, H, W)."""
    label = _label(name, node)
    if len(shape) != 3:
        raise UserError(where, label, f"needs a [C, H, W] input, got {list(shape)}")
    w = np.asarray(node.weight, dtype=np.float64)
    if w.ndim != 4:
        raise UserError(where, label, f"weight has shape {list(w.shape)}, expected [C_out, C_in, kh, kw]")
    groups = int(np.asarray(node.groups))
    if groups != 1:
        raise UserError(where, label, f"groups = {groups}: tess-sim convolutions are dense (groups 1)")
    dil = _pair(where, label, "dilation", node.dilation)
    if dil != (1, 1):
        raise UserError(where, label, f"dilation {dil}: tess-sim convolutions have dilation 1")
    if w.shape[2] != w.shape[3]:
        raise UserError(where, label, f"kernel {w.shape[2]}×{w.shape[3]}: tess-sim kernels are square")
    k = w.shape[2]
    if w.shape[1] != shape[0]:
        raise UserError(where, label, f"weight has {w.shape[1]} input channels, its input has {shape[0]}")
    s = _square(where, label, "stride", node.stride)
    pad = node.padding
    if isinstance(pad, bytes):
        pad = pad.decode()
    if isinstance(pad, str):
        if pad == "valid":
            p = 0
        elif pad == "same" and s == 1 and k % 2 == 1:
            p = (k - 1) // 2
        else:
            raise UserError(where, label, f"padding '{pad}' with kernel {k} and stride {s}: tess-sim pads "
                            "symmetrically ('same' needs an odd kernel and stride 1)")
    else:
        p = _square(where, label, "padding", pad)
    if node.input_shape is not None and tuple(int(x) for x in np.atleast_1d(node.input_shape)) != tuple(shape[1:]):
        raise UserError(where, label, f"input_shape {np.asarray(node.input_shape).tolist()} but its input is "
                        f"{list(shape[1:])}")
    oh, ow = conv_out_hw(shape[1], shape[2], k, s, p)
    if oh < 1 or ow < 1:
        raise UserError(where, label, f"kernel {k} is larger than the padded input")
    bias = np.broadcast_to(np.asarray(node.bias, dtype=np.float64), (w.shape[0],)).copy()
    return dict(layer={"type": "conv", "out_channels": int(w.shape[0]), "kernel": int(k), "stride": s,
                       "padding": p, "bias": bool(np.any(bias != 0))},
                weight=w, bias=bias, out=(int(w.shape[0]), oh, ow))


def _dense(name, node, shape, where) -> dict:
    """Our linear layer / readout (and arrays) of a NIR Affine / Linear over the input ``shape``."""
    label = _label(name, node)
    w = np.asarray(node.weight, dtype=np.float64)
    if w.ndim != 2:
        raise UserError(where, label, f"weight has shape {list(w.shape)}, expected [out, in]")
    n_in = math.prod(shape)
    if w.shape[1] != n_in:
        raise UserError(where, label, f"weight has {w.shape[1]} inputs, its input has {n_in} elements {list(shape)}")
    affine = type(node).__name__ == "Affine"
    bias = (np.broadcast_to(np.asarray(node.bias, dtype=np.float64), (w.shape[0],)).copy() if affine else None)
    return dict(layer={"type": "linear", "out_features": int(w.shape[0]), "bias": affine},
                weight=w, bias=bias, out=(int(w.shape[0]),))


def _pool(name, node, shape, where) -> tuple[dict, int, tuple[int, ...]]:
    """Our avgpool layer of a NIR AvgPool2d / SumPool2d: (layer, k, output shape)."""
    label = _label(name, node)
    if len(shape) != 3:
        raise UserError(where, label, f"needs a [C, H, W] input, got {list(shape)}")
    k = _square(where, label, "kernel_size", node.kernel_size)
    s = _square(where, label, "stride", node.stride)
    p = _pair(where, label, "padding", node.padding)
    if s != k or p != (0, 0):
        raise UserError(where, label, f"kernel {k}, stride {s}, padding {list(p)}: tess-sim pools with "
                        "stride = kernel and no padding")
    if shape[1] % k or shape[2] % k:
        raise UserError(where, label, f"a {shape[1]}×{shape[2]} map cannot be pooled by {k} (tess-sim needs "
                        "exact division)")
    return {"type": "avgpool", "kernel": k}, k, (shape[0], shape[1] // k, shape[2] // k)


def _flatten(name, node, shape, where) -> tuple[int, ...]:
    """A Flatten that makes one vector of the input (C, H, W order), as our linear layers do."""
    start, end = int(np.asarray(node.start_dim)), int(np.asarray(node.end_dim))
    nd = len(shape)
    lo, hi = start % nd if nd else 0, end % nd if nd else 0
    if not (lo == 0 and hi == nd - 1):
        raise UserError(where, _label(name, node), f"start_dim {start}, end_dim {end} over a {list(shape)} input "
                        "does not flatten it to one vector (tess-sim flattens C, H, W: start_dim 0, end_dim -1)")
    return (math.prod(shape),)


def graph_to_network(graph, dt: float | None, where: str) -> Imported:
    """Our layer list, neurons and weights of a NIR graph (module doc); UserError naming the
    first node it cannot express. ``dt``: the time step in seconds (required: see
    :func:`dt_hint`)."""
    order = chain(graph, where)
    nodes = graph.nodes
    first = nodes[order[0]]
    shape = tuple(int(x) for x in np.atleast_1d(np.asarray(first.input_type["input"])))
    if len(shape) not in (1, 3):
        raise UserError(where, _label(order[0], first), f"shape {list(shape)}: tess-sim inputs are [C, H, W] or "
                        "[features]")
    if dt is None:
        raise UserError(where, "dt", "the time step is required (--dt, or network.dt in a workload)" + dt_hint(graph))
    if not (dt > 0 and math.isfinite(dt)):
        raise UserError(where, "dt", f"must be a positive number of seconds, got {dt}")
    out = Imported(shape, [], {}, {}, 0)
    counts: dict[str, int] = {}
    pending: dict | None = None    # a weight layer waiting for its neuron (or the readout)
    scale, scale_from = 1.0, []    # SumPool factors for the next weight layer
    for name in order[1:-1]:
        node = nodes[name]
        kind, label = type(node).__name__, _label(name, node)
        if kind in REFUSED:
            raise UserError(where, label, REFUSED[kind])
        if kind in ("Conv2d", "Affine", "Linear"):
            if pending is not None:
                raise UserError(where, label, f"follows the weight layer '{pending['node']}' without a neuron "
                                "between them: tess-sim layers are weights + LIF (or the final readout)")
            pending = (_conv if kind == "Conv2d" else _dense)(name, node, shape, where)
            pending["node"] = name
            if scale != 1.0:
                pending["weight"] = pending["weight"] * scale
                out.notes.append(f"SumPool2d {', '.join(scale_from)}: its factor {scale:g} is folded into the "
                                 f"weights of '{name}' (SumPool2d(k) = k²·AvgPool2d(k))")
                scale, scale_from = 1.0, []
        elif kind in ("LIF", "IF"):
            if pending is None:
                raise UserError(where, label, "a neuron must follow a Conv2d, Affine or Linear node")
            layer = pending["layer"]
            t = layer["type"]
            counts[t] = counts.get(t, 0) + 1
            lname = f"{t}{counts[t]}"
            out.neurons[lname] = neuron_from_nir(node, kind, pending["out"], dt, where, label)
            out.layers.append(layer)
            out.weights[lname] = pending["weight"]
            if layer["bias"]:
                out.weights[lname + ".bias"] = pending["bias"]
            out.mapping.append((lname, f"{pending['node']} + {name}"))
            shape, pending = pending["out"], None
        elif kind in ("AvgPool2d", "SumPool2d"):
            if pending is not None or not out.layers:
                raise UserError(where, label, "pooling must follow a spiking layer (weights + LIF / IF)")
            layer, k, shape = _pool(name, node, shape, where)
            counts["avgpool"] = counts.get("avgpool", 0) + 1
            out.layers.append(layer)
            out.mapping.append((f"avgpool{counts['avgpool']}", name))
            if kind == "SumPool2d":
                scale *= k * k
                scale_from.append(f"'{name}'")
        elif kind == "Flatten":
            if pending is not None:
                raise UserError(where, label, "a Flatten between a weight layer and its neuron cannot be expressed")
            shape = _flatten(name, node, shape, where)
        else:
            raise UserError(where, label, f"node type {kind} has no tess-sim layer")
    end = nodes[order[-1]]
    if pending is None or pending["layer"]["type"] != "linear":
        what = ("ends with a Conv2d" if pending is not None else
                "ends without a non-spiking Affine / Linear readout")
        raise UserError(where, _label(order[-1], end), f"the graph {what}: tess-sim needs a final Affine or Linear "
                        "node with no neuron after it (the readout)")
    bias = pending["layer"]["bias"]
    out.layers.append({"type": "readout", "out_features": pending["layer"]["out_features"], "bias": bias})
    out.weights["readout"] = pending["weight"]
    if bias:
        out.weights["readout.bias"] = pending["bias"]
    out.mapping.append(("readout", pending["node"]))
    out.classes = pending["layer"]["out_features"]
    if scale != 1.0:  # a SumPool2d after the readout's input is impossible (the readout is last)
        raise UserError(where, f"node {scale_from[0]}", "a SumPool2d with no weight layer after it")
    return out


def dt_hint(graph) -> str:
    """A hint on the time step a graph was exported with: snnTorch's convention r = tau/dt gives
    dt = tau/r when every LIF node agrees (empty when they do not)."""
    vals = set()
    for node in graph.nodes.values():
        if type(node).__name__ == "LIF":
            tau, r = np.asarray(node.tau, dtype=np.float64), np.asarray(node.r, dtype=np.float64)
            if tau.size and r.size and np.all(r > 0):
                vals.update(np.unique(tau / r).tolist())
    if len(vals) == 1:
        return (f"; this graph's LIF nodes have tau/r = {vals.pop():g} s, the dt of snnTorch's convention "
                "r = tau/dt (snnTorch exports with dt = 1e-4)")
    return ""


def layers_with_overrides(imp: Imported, base) -> list[dict]:
    """``imp.layers`` with a ``neuron`` override on each spiking layer where its (beta, theta,
    reset: zero) differ from ``base`` (the workload's :class:`~simulator.workload.Neuron`)."""
    out, counts = [], {}
    for layer in imp.layers:
        layer = dict(layer)
        t = layer["type"]
        if t in ("conv", "linear"):
            counts[t] = counts.get(t, 0) + 1
            n = imp.neurons[f"{t}{counts[t]}"].override()
            diff = {k: v for k, v in n.items() if getattr(base, k) != v}
            if diff:
                layer["neuron"] = diff
        out.append(layer)
    return out

