"""Helpers of the SimPy engine tests: random per-step activity and quick simulation."""

from __future__ import annotations

import numpy as np

from simulator.activity import ActivityProfile, LayerActivity
from simulator.api import make_rules
from simulator.engines.simulate import simulate
from simulator.network import Net, build_network


def random_activity(net: Net, seed: int, rate: float = 0.3) -> ActivityProfile:
    """Integer spike counts that vary per step, consistent between layers (a layer's input events
    are the previous block's output events); synaptic ops = events × mean border-exact fan-out."""
    rng = np.random.default_rng(seed)
    T = net.T
    layers = {}
    ev = rng.binomial(net.N_input, rate, T).astype(float)
    for b in net.blocks:
        syn = np.round(ev * b.S / b.N_in)
        out = rng.binomial(b.N_pre, rate, T).astype(float)
        post = np.minimum(out, b.N_post).astype(float)
        layers[b.name] = LayerActivity(ev.copy(), syn, out, post)
        ev = post
    ro = net.readout
    layers[ro.name] = LayerActivity(ev.copy(), ev * ro.N_pre, np.zeros(T), np.zeros(T))
    return ActivityProfile("random", f"random seed {seed}", layers)


def sim(wl, act=None, **kw):
    """Simulate a workload (its own activity unless ``act``); returns (net, rules, Simulated)."""
    from simulator.activity import build_activity

    net = build_network(wl)
    rules = make_rules(wl, net)
    act = act or build_activity(net, wl.activity)
    return net, rules, act, simulate(wl, net, rules, act, **kw)


def metric(timing, rule, scope, metric, name=None):
    t = timing[(timing.rule == rule) & (timing.scope == scope) & (timing.metric == metric)]
    if name is not None:
        t = t[t.name == name]
    return t.set_index("name")["value"]
