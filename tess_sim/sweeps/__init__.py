"""Sweeps: grids of workload settings run in parallel (processes or Dask), one stored file per
finished point, resumable; see :func:`sweep`."""

from tess_sim.sweeps.grid import build_grid, check_key, parse_set, parse_values
from tess_sim.sweeps.runner import Point, SweepPlan, SweepResult, build_table, plan_sweep, resolved, run_sweep, sweep
from tess_sim.sweeps.store import PointStore, point_key

__all__ = ["sweep", "plan_sweep", "run_sweep", "build_table", "resolved", "SweepPlan", "Point", "SweepResult",
           "parse_set", "parse_values", "check_key", "build_grid", "PointStore", "point_key"]
