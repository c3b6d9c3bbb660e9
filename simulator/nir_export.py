"""Our network and its weights as a NIR graph (docs/nir.md): the inverse of
:func:`~simulator.nir_graph.graph_to_network`, with the convention of :mod:`simulator.nir_graph`.

Per spiking layer: ``Conv2d`` (bias zeros when the layer has none) or ``Affine`` / ``Linear``
(a ``Flatten`` before it when its input is a map), then ``LIF`` with ``tau = dt/(1 − beta)``,
``r = tau/dt``, ``v_leak = 0``, ``v_threshold = theta``, ``v_reset = 0`` (``IF`` with
``r = 1/dt`` when beta = 1); average pools as ``AvgPool2d``; the readout as ``Affine`` /
``Linear``. Refused, naming the layer: max-pooling (NIR 1.0 has no max-pool node) and the
subtractive reset (NIR 1.0 resets to v_reset), unless ``approximate_reset`` exports it as the
reset to 0 and says so. Weight-standardised layers export the weights they compute with (W_eff).
"""

from __future__ import annotations

import io

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.network import Net
from tess_sim.simulator.nir_graph import nir_neuron_arrays, require_nir


def network_to_graph(net: Net, eff: dict, dt: float, where: str,
                     approximate_reset: bool = False) -> tuple[object, list[str]]:
    """``(nir.NIRGraph, notes)`` of ``net`` with the weights it computes with, ``eff`` (W.npz keys;
    a weight-standardised layer's W_eff: :func:`~simulator.functional.standardise.effective_weights`);
    ``notes`` say what was approximated or transformed. UserError naming the first layer NIR
    cannot express."""
    nir = require_nir(where)
    notes: list[str] = []
    nodes: dict = {"input": nir.Input(input_type={"input": np.array(net.input_shape)})}
    chain = ["input"]

    def add(name: str, node) -> None:
        nodes[name] = node
        chain.append(name)

    def dense(b, shape) -> object:
        if len(shape) > 1:
            add(f"{b.name}.flatten", nir.Flatten(input_type={"input": np.array(shape)}, start_dim=0, end_dim=-1))
        w = np.asarray(eff[b.name], dtype=np.float64)
        if b.bias:
            return nir.Affine(weight=w, bias=np.asarray(eff[b.name + ".bias"], dtype=np.float64))
        return nir.Linear(weight=w)

    for b in net.blocks:
        p = b.neuron
        if p.reset == "subtract":
            v = p.theta if p.v_reset is None else p.v_reset
            if not approximate_reset:
                raise UserError(where, f"layer {b.name}", f"reset 'subtract' (u+ = u - {v:g}·o) has no NIR 1.0 "
                                "equivalent (NIR's LIF / IF reset to v_reset); set reset: zero, or pass "
                                "--approximate-reset to export it as the reset to 0")
            notes.append(f"approximation: layer {b.name} resets by subtracting {v:g} in tess-sim; exported as "
                         "NIR's reset to 0 (its spikes in NIR differ)")
        if b.standardised:
            notes.append(f"layer {b.name}: weight-standardised; exported with the weights it computes with (W_eff)")
        if b.kind == "conv":
            bias = (np.asarray(eff[b.name + ".bias"], dtype=np.float64) if b.bias
                    else np.zeros(b.pre_shape[0], dtype=np.float64))
            add(b.name, nir.Conv2d(input_shape=tuple(b.in_shape[1:]), weight=np.asarray(eff[b.name], dtype=np.float64),
                                   stride=b.stride, padding=b.padding, dilation=1, groups=1, bias=bias))
        else:
            add(b.name, dense(b, _shape_before(net, b)))
        kind, arrays = nir_neuron_arrays(p.beta, p.theta, b.pre_shape, dt)
        add(f"{b.name}.{kind.lower()}", getattr(nir, kind)(**arrays))
        h, w = b.pre_shape[1:] if len(b.pre_shape) == 3 else (0, 0)
        for pool in b.pools:
            if pool.kind == "max":
                raise UserError(where, f"layer {pool.name}", "max-pooling has no NIR 1.0 node (NIR has AvgPool2d and "
                                "SumPool2d)")
            kh, kw = (pool.size, pool.size) if pool.kind == "avg" else (h // pool.size, w // pool.size)
            add(pool.name, nir.AvgPool2d(kernel_size=np.array([kh, kw]), stride=np.array([kh, kw]),
                                         padding=np.array([0, 0])))
            h, w = h // kh, w // kw
    r = net.readout
    add(r.name, dense(r, net.blocks[-1].post_shape))
    add("output", nir.Output(output_type={"output": np.array([r.pre_shape[0]])}))
    graph = nir.NIRGraph(nodes=nodes, edges=list(zip(chain[:-1], chain[1:])), type_check=False)
    return graph, notes


def _shape_before(net: Net, block) -> tuple[int, ...]:
    """The map a block reads: the input, or the previous block's output after its pools."""
    i = net.blocks.index(block)
    return tuple(net.input_shape) if i == 0 else tuple(net.blocks[i - 1].post_shape)


def graph_bytes(graph, where: str) -> bytes:
    """The ``.nir`` (HDF5) file of ``graph``, in memory (written atomically by the caller)."""
    nir = require_nir(where)
    buf = io.BytesIO()
    nir.write(buf, graph)
    return buf.getvalue()
