"""Pluggable cost models: the ledger + the hardware → energy, leakage and area (docs/cost-models.md).

>>> from tess_sim.simulator.workload import load_workload
>>> from tess_sim.api import run
>>> from tess_sim.cost_models import cost_report
>>> res = run(load_workload("workloads/dvs.yaml"))
>>> rep = cost_report(res, ["horowitz45", {"model": "cacti28", "alpha": 0.78}])
>>> rep.summary[["model", "rule", "total", "dram", "per_sop"]]    # pJ per sample
"""

from tess_sim.cost_models.builtin import BUILTINS, Cacti28, Counts, Horowitz45
from tess_sim.cost_models.price import NOT_PRICED, Priced, breakdown, energy_summary, price, synaptic_ops
from tess_sim.cost_models.registry import (ALLOW_ENV, GROUP, CostModel, allow_plugin_modules, check_file_specs, entry_point_names,
                       load_cost_model, parse_cli_spec, plugin_modules_allowed)
from tess_sim.cost_models.report import CostReport, cost_report, load_models, time_per_sample
from tess_sim.cost_models.table import CostTable, TableModel, load_table

__all__ = ["ALLOW_ENV", "allow_plugin_modules", "check_file_specs", "plugin_modules_allowed", "BUILTINS",
           "Cacti28", "Counts", "Horowitz45", "Priced", "breakdown", "energy_summary",
           "NOT_PRICED", "price", "synaptic_ops", "GROUP", "CostModel", "entry_point_names", "load_cost_model",
           "parse_cli_spec", "CostReport", "cost_report", "load_models", "time_per_sample",
           "CostTable", "TableModel", "load_table"]
