"""Brute-force counters for tests: explicit loops over steps, neurons, kernel taps and weights,
written from the conventions in simulator/rules/program.py — never from the closed forms.

Shapes are recomputed here from the workload's layer list, independently of simulator.network.
"""

from __future__ import annotations

from collections import Counter
from itertools import product

import numpy as np


def conv_pairs(c_in, h, w, c_out, k, s, p):
    """Enumerate (input index or None for padding, output index) pairs of a conv; out shape."""
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    pairs = []
    for co, oy, ox in product(range(c_out), range(oh), range(ow)):
        for ci, ky, kx in product(range(c_in), range(k), range(k)):
            iy, ix = oy * s - p + ky, ox * s - p + kx
            inside = 0 <= iy < h and 0 <= ix < w
            pairs.append(((ci, iy, ix) if inside else None, (co, oy, ox)))
    return pairs, (c_out, oh, ow)


def brute_shapes(wl):
    """Per spiking block: dict(name, kind, n_in, n_pre, n_post, weights, F, S, pools, in_shape,
    post_shape, analog); and the readout dict. Loops over every pair."""
    shape = tuple(wl.input.shape)
    blocks, counts = [], Counter()
    readout = None
    for layer in wl.network.layers:
        t = layer.type
        counts[t] += 1
        name = layer.name or ("readout" if t == "readout" else f"{t}{counts[t]}")
        if t == "conv":
            c, h, w = shape
            pairs, out = conv_pairs(c, h, w, layer.out_channels, layer.kernel, layer.stride, layer.padding)
            blocks.append(dict(name=name, kind="conv", in_shape=shape, pre_shape=out, post_shape=out, pairs=pairs,
                               n_in=c * h * w, n_pre=int(np.prod(out)), F=len(pairs),
                               S=sum(1 for i, _ in pairs if i is not None),
                               weights=layer.out_channels * c * layer.kernel ** 2, pools=[],
                               analog=not blocks and wl.input.encoding == "analog"))
            shape = out
        elif t == "linear":
            n = int(np.prod(shape))
            pairs = list(product(range(n), range(layer.out_features)))
            F = len(pairs)
            blocks.append(dict(name=name, kind="linear", in_shape=(n,), pre_shape=(layer.out_features,), pairs=pairs,
                               post_shape=(layer.out_features,), n_in=n, n_pre=layer.out_features,
                               F=F, S=F, weights=F, pools=[],
                               analog=not blocks and wl.input.encoding == "analog"))
            shape = (layer.out_features,)
        elif t == "readout":
            n = int(np.prod(shape))
            readout = dict(name=name, n_in=n, n_pre=wl.input.classes, weights=n * wl.input.classes,
                           bias=layer.bias)
        else:
            c, h, w = shape
            k = {"maxpool": getattr(layer, "kernel", None), "avgpool": getattr(layer, "kernel", None)}.get(t)
            if k is None:
                size = getattr(layer, "size", 1)
                k_h, k_w = h // size, w // size
            else:
                k_h = k_w = k
            oh, ow = h // k_h, w // k_w
            # enumerate windows: each output element and the inputs it covers
            window = [(y, x) for y in range(k_h) for x in range(k_w)]
            blocks[-1]["pools"].append(dict(kind="max" if t == "maxpool" else "avg",
                                            n_out=c * oh * ow, window=len(window)))
            shape = (c, oh, ow)
            blocks[-1]["post_shape"] = shape
    for b in blocks:
        b["n_post"] = int(np.prod(b["post_shape"]))
    return blocks, readout


def brute_ops(wl, rule: str) -> Counter:
    """PE op counts per (phase, action) for dense activity, enumerated step by step."""
    blocks, ro = brute_shapes(wl)
    T, C, B = wl.input.T, wl.input.classes, wl.input.batch
    params = wl.rules.enabled()[rule]
    window = getattr(params, "window", None) or T
    alpha_post = getattr(params, "alpha_post", 0.0)
    psi = {"add": 2, "mul": 2, "cmp": 2}
    c = Counter()
    for t in range(T):
        learn = rule == "bptt" or t >= T - min(window, T)
        for b in blocks:
            if b["analog"]:
                c["fwd", "mac"] += b["F"]
            else:
                c["fwd", "ac"] += b["S"]
            for _ in range(b["n_pre"]):  # every neuron: leak, threshold, reset (it spikes), Psi
                c["neuron", "mul"] += 1 + psi["mul"]
                c["neuron", "cmp"] += 1 + psi["cmp"]
                c["neuron", "add"] += 1 + psi["add"]
            for pool in b["pools"]:
                for _ in range(pool["n_out"]):
                    if pool["kind"] == "max":
                        c["neuron", "cmp"] += pool["window"] - 1
                    else:
                        c["neuron", "add"] += pool["window"] - 1
                        c["neuron", "mul"] += 1
            if rule != "bptt":
                for _ in range(b["n_in"]):
                    c["trace", "mul"] += 1
                    c["trace", "add"] += 1
                if alpha_post:
                    for _ in range(b["n_pre"]):
                        c["trace", "mul"] += 1
                        c["trace", "add"] += 1
        c["fwd", "ac"] += ro["n_in"] * C
        c["fwd", "add"] += C if ro["bias"] else 0
        if not learn:
            continue
        # ---- learning signal
        if rule in ("bptt", "stllr"):
            if rule == "stllr" or t == T - 1:  # BPTT: one softmax of Σ_t y; S-TLLR: every step
                c["bwd", "exp"] += C
                c["bwd", "div"] += C
                c["bwd", "add"] += C
            c["bwd", "mac"] += ro["n_in"] * C
            for i, b in enumerate(blocks):
                avg_outs = sum(p["n_out"] for p in b["pools"] if p["kind"] != "max")
                c["bwd", "mul"] += avg_outs
                if rule == "bptt":
                    c["bwd", "mul"] += 2 * b["n_pre"]
                    c["bwd", "add"] += b["n_pre"]
                elif i > 0:
                    c["bwd", "mul"] += b["n_pre"]
                if i > 0:
                    c["bwd", "mac"] += b["F"]
        else:  # TESS: LSG per block, readout softmax
            pools = params.lsg_pool
            for i, b in enumerate(blocks):
                if b["kind"] == "conv":
                    s = pools[i] if pools else 1
                    D = b["post_shape"][0] * s * s
                else:
                    D = b["n_post"]
                if D < b["n_post"]:
                    c["lsg", "add"] += b["n_post"] - D
                    c["lsg", "mul"] += 2 * D
                c["lsg", "mac"] += sum(1 for _ in product(range(C), range(D))) * 2
                c["lsg", "exp"] += C
                c["lsg", "div"] += C
                c["lsg", "add"] += C
                c["lsg", "mul"] += sum(p["n_out"] for p in b["pools"] if p["kind"] != "max")
            c["lsg", "exp"] += C
            c["lsg", "div"] += C
            c["lsg", "add"] += C
        # ---- weight gradients
        c["wgrad", "ac"] += ro["n_in"] * C
        c["wgrad", "add"] += C if ro["bias"] else 0
        for i, b in enumerate(blocks):
            if rule == "bptt":
                c["wgrad", "mac" if b["analog"] else "ac"] += b["F"] if b["analog"] else b["S"]
                continue
            if not (rule == "stllr" and i > 0):
                c["wgrad", "mul"] += b["n_pre"]
            c["wgrad", "mac"] += b["F"]
            if alpha_post:
                c["wgrad", "mul"] += b["n_pre"]
                c["wgrad", "mac" if b["analog"] else "ac"] += b["F"] if b["analog"] else b["S"]
    # ---- optimizer, once per batch, per sample
    n_params = sum(b["weights"] for b in blocks) + ro["weights"] + (C if ro["bias"] else 0)
    per_weight = {"mul": 6, "add": 4, "sqrt": 1, "div": 1} if params.optimizer == "adam" else {"mac": 1}
    for k, v in per_weight.items():
        c["update", k] += v * n_params / B
    return Counter({k: v for k, v in c.items() if v})


def brute_local_wgrad_terms(wl, rule: str) -> Counter:
    """PE ops of the blocks' weight gradient of S-TLLR or TESS per (layer, term, action), for
    dense activity (every input element spikes every step), enumerated step by step, neuron by
    neuron and (input, output) pair by pair from docs/math.md §3:
    g += corr(tr_x, m ⊙ Psi) + corr(x, m ⊙ tr_Psi)."""
    blocks, _ = brute_shapes(wl)
    T = wl.input.T
    params = wl.rules.enabled()[rule]
    window = min(params.window or T, T)
    c = Counter()
    for t in range(T - window, T):
        for i, b in enumerate(blocks):
            name = b["name"]
            for _ in range(b["n_pre"]):
                if rule == "tess" or i == 0:  # S-TLLR's blocks above made m ⊙ Psi in their bwd
                    c[name, "causal corr(tr_x, m·Psi)", "mul"] += 1
                if params.alpha_post:
                    c[name, "non-causal corr(x, m·tr_Psi)", "mul"] += 1
            for src, _dst in b["pairs"]:
                c[name, "causal corr(tr_x, m·Psi)", "mac"] += 1  # the trace is analog: every tap, padding too
                if params.alpha_post:
                    if b["analog"]:
                        c[name, "non-causal corr(x, m·tr_Psi)", "mac"] += 1
                    elif src is not None:  # a spike meets a weight only inside the input
                        c[name, "non-causal corr(x, m·tr_Psi)", "ac"] += 1
    return c
