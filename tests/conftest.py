"""Shared fixtures: paths to the shipped workloads and helpers to build workloads in memory."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ROOT / "workloads"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def small_dict():
    """The small workload as a mapping with its hardware inline (tests edit it freely)."""
    from tess_sim.simulator.yaml_io import read_yaml

    data = read_yaml(WORKLOADS / "small.yaml")
    data["hardware"] = read_yaml(WORKLOADS / "hw" / "edge.yaml")
    return copy.deepcopy(data)
