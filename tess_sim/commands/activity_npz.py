"""``tess-sim activity from-npz``: a recording's exact activity CSV (:mod:`simulator.measured.recorded`)."""

from __future__ import annotations

import click

from tess_sim.api import load
from tess_sim.commands.options import overrides, set_option
from tess_sim.simulator.activity import write_activity_csv
from tess_sim.simulator.atomic import write_text
from tess_sim.simulator.errors import exit_2_on_user_error
from tess_sim.simulator.measured.recorded import recorded_profile
from tess_sim.simulator.network import build_network


@click.command("from-npz")
@click.argument("workload", type=click.Path())
@click.argument("recording", type=click.Path())
@click.option("--out", "out_path", type=click.Path(), required=True, help="The activity CSV to write.")
@set_option
@exit_2_on_user_error
def from_npz(workload, recording, out_path, sets):
    """Turn a recording RECORDING.npz of WORKLOAD's network (the input and each spiking block's
    0/1 spikes [T, batch, ...], optionally its pre-reset membranes <block>.membrane) into an
    exact activity CSV, usable as `activity: {source: file, path: …}`. For example:

    \b
      tess-sim activity from-npz workloads/dvs.yaml rec.npz --out activity.csv
      tess-sim run workloads/dvs.yaml --set activity.source=file --set activity.path=activity.csv

    The counts come from the spike positions (non-zero inputs, their border-exact synaptic
    fan-out, non-zero outputs after each block's pools), per step and per sample (the batch's
    mean); with membranes also each block's Psi ≠ 0 and NeuroBench's membrane updates. Keys:
    `input` [T, batch, *input_shape], one array per spiking block named as the workload names
    it (its `name`, else conv1, conv2, …, linear1, …; an unknown key's error lists them). The
    CSV is written atomically."""
    wl = load(workload, None, overrides(sets))
    net = build_network(wl, wl.source or workload)
    profile = recorded_profile(recording, net)
    write_text(out_path, write_activity_csv(profile, net))
    rates = profile.rates(net)
    click.echo(f"{profile.description}: spike rate per layer " + ", ".join(f"{k} {v:.4g}" for k, v in rates.items()))
    click.echo(f"wrote {out_path}: {len(net.layers) + 1} layers × {net.T} steps")
