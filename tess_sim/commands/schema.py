"""``tess-sim schema``: the workload JSON Schema."""

from __future__ import annotations

import json

import click

from tess_sim.simulator.workload import Workload


@click.command("schema")
def schema_cmd():
    """Print the workload JSON Schema."""
    click.echo(json.dumps(Workload.model_json_schema(), indent=2))
