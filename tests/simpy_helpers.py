"""Helpers of the SimPy engine tests: random per-step activity and quick simulation."""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.activity import ActivityProfile, LayerActivity
from tess_sim.simulator.rules import build_rules
from tess_sim.simulator.engines.simpy.simulate import simulate
from tess_sim.simulator.network import Net, build_network


def random_activity(net: Net, seed: int, rate: float = 0.3, silent=()) -> ActivityProfile:
    """Integer spike counts that vary per step, consistent between layers (a layer's input events
    are the previous block's output events); synaptic ops = events × mean border-exact fan-out.
    The blocks named in ``silent`` (and the input, for ``"input"``) never spike."""
    rng = np.random.default_rng(seed)
    T = net.T
    layers = {}
    ev = rng.binomial(net.N_input, rate, T).astype(float)
    if "input" in silent:
        ev[:] = 0.0
    for b in net.blocks:
        syn = np.round(ev * b.S / b.N_in)
        out = rng.binomial(b.N_pre, rate, T).astype(float)
        if b.name in silent:
            out[:] = 0.0
        post = np.minimum(out, b.N_post).astype(float)
        layers[b.name] = LayerActivity(ev.copy(), syn, out, post)
        ev = post
    ro = net.readout
    layers[ro.name] = LayerActivity(ev.copy(), ev * ro.N_pre, np.zeros(T), np.zeros(T))
    return ActivityProfile("random", f"random seed {seed}", layers)


def sim(wl, act=None, **kw):
    """Simulate a workload (its own activity unless ``act``); returns (net, rules, Simulated)."""
    from tess_sim.simulator.activity import build_activity

    net = build_network(wl)
    rules = build_rules(wl, net)
    act = act or build_activity(net, wl.activity)
    return net, rules, act, simulate(wl, net, rules, act, **kw)


def metric(timing, rule, scope, metric, name=None):
    t = timing[(timing.rule == rule) & (timing.scope == scope) & (timing.metric == metric)]
    if name is not None:
        t = t[t.name == name]
    return t.set_index("name")["value"]


def core_sims(wl, act, granularity=None, keep_tasks=False):
    """One fresh :class:`CoreSim` per rule, as :func:`simulate` builds them (placement included)."""
    from tess_sim.simulator.rules import build_rules as _rules
    from tess_sim.simulator.engines.analytical import run_analytical
    from tess_sim.simulator.engines.simpy.engine import CoreSim
    from tess_sim.simulator.mapping import core_of_layers
    from tess_sim.simulator.placement import place

    net = build_network(wl)
    hw, batch = wl.hardware, wl.input.batch
    rules = _rules(wl, net)
    placement = place(run_analytical(rules, act, hw.precision, batch), hw)
    cores = core_of_layers(net, hw)
    gran = granularity or wl.simulation.granularity
    return [CoreSim(r, r.works(act), net, hw, placement, cores, gran, wl.simulation.tile, batch, keep_tasks)
            for r in rules]
