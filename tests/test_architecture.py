"""The layering rules of README "How the code is laid out", checked on the package ASTs.

Every ``import`` / ``from … import`` of every module counts, inside functions too. A module may
import its own layer or the layers its layer is allowed (``ALLOWED``), never upwards; the engine
siblings do not import each other; there is no cycle; no function-level import names one of our
modules (function-level imports are for optional third-party packages only). ``tess_sim`` and
``tess_sim.simulator`` sit in the bottom layer because Python runs a package's ``__init__``
before any module under it: they stay light.
"""

from __future__ import annotations

import ast
import configparser
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: repository folder -> installed package (setup.cfg package_dir)
SOURCES = {"tess_sim": "tess_sim", "simulator": "tess_sim.simulator", "cost_models": "tess_sim.cost_models",
           "reports": "tess_sim.reports", "workloads": "tess_sim.workloads"}

K = "tess_sim.simulator."
#: (layer, module patterns), bottom to top; ``x.*`` is x and everything under it, the first match wins
LAYERS = [
    ("vocabulary", ["tess_sim", "tess_sim.version", "tess_sim.simulator", K + "vocab", K + "errors", K + "limits",
                    K + "ledger", K + "atomic", K + "shapes", K + "yaml_io", K + "summary"]),
    ("schema", [K + "workload", K + "hardware", K + "nir_graph"]),
    ("model", [K + "network", K + "nir_export", K + "activity", K + "placement", K + "mapping", K + "spills", K + "timing",
               K + "dataflow.*"]),
    ("rules", [K + "rules.*"]),
    ("engines", [K + "engines.*"]),
    ("functional", [K + "functional.*"]),
    ("events", [K + "events.*"]),
    ("measured", [K + "measured.*"]),
    ("cost_models", ["tess_sim.cost_models.*"]),
    ("reports", ["tess_sim.reports.*"]),
    ("application", ["tess_sim.*"]),
]
KERNEL = ["vocabulary", "schema", "model", "rules"]
#: which layers each layer may import (besides itself)
ALLOWED = {
    "vocabulary": [],
    "schema": ["vocabulary"],
    "model": ["vocabulary", "schema"],
    "rules": ["vocabulary", "schema", "model"],
    "engines": KERNEL,          # engines, functional numerics and event data are siblings:
    "functional": KERNEL,       # none imports another
    "events": KERNEL,
    "measured": KERNEL + ["functional", "events"],
    "cost_models": ["vocabulary", "schema"],          # the ledger and the hardware schema only
    "reports": ["vocabulary", "cost_models"],          # ledgers, cost reports and the vocabulary
    "application": [name for name, _ in LAYERS],       # the front door imports everything
}
#: the two engines inside simulator/engines: neither imports the other (shared modules sit beside them)
ENGINE_SIBLINGS = (K + "engines.analytical", K + "engines.simpy")


def matches(module: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        base = pattern[:-2]
        return module == base or module.startswith(base + ".")
    return module == pattern


def layer_of(module: str) -> str:
    for name, patterns in LAYERS:
        if any(matches(module, p) for p in patterns):
            return name
    raise AssertionError(f"{module} is in no layer of tests/test_architecture.py: give it one")


@dataclass(frozen=True)
class Import:
    source: str       # importing module
    target: str       # imported module of ours
    line: int
    in_function: bool


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Installed dotted name -> file, for every module of ours."""
    out = {}
    for folder, package in SOURCES.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = list(path.relative_to(root / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package] + parts)] = path
    return out


def _targets(node, module: str, is_package: bool, known) -> list[str]:
    """Our modules an import statement names (``from pkg import mod`` names ``pkg.mod``)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        subs = [f"{prefix}.{a.name}" for a in node.names if f"{prefix}.{a.name}" in known]
        names = subs + ([prefix] if len(subs) < len(node.names) else [])
    out = []
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module:
            out.append(name)
    return out


def imports_of(source: str, module: str, is_package: bool, known) -> list[Import]:
    tree = ast.parse(source)
    in_function = set()
    for f in ast.walk(tree):
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            in_function.update(id(n) for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom)))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out += [Import(module, t, node.lineno, id(node) in in_function)
                    for t in _targets(node, module, is_package, known)]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and str(node.args[0].value) in known):
            out.append(Import(module, str(node.args[0].value), node.lineno, True))
    return out


def all_imports(root: Path = ROOT) -> list[Import]:
    mods = modules(root)
    return [imp for name, path in mods.items()
            for imp in imports_of(path.read_text(), name, path.name == "__init__.py", mods)]


def cycles(edges: list[Import]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]; counter[0] += 1; stack.append(start); on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]; counter[0] += 1; stack.append(w); on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop(); on.discard(w); comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def violations(edges: list[Import], known) -> list[str]:
    """Every broken rule, one line each (file-free: ``module:line``)."""
    bad = []
    for e in edges:
        where = f"{e.source}:{e.line} imports {e.target}"
        src, dst = layer_of(e.source), layer_of(e.target)
        if e.in_function:
            bad.append(f"{where} inside a function (only optional third-party packages may be)")
        if dst != src and dst not in ALLOWED[src]:
            bad.append(f"{where}: layer '{src}' may not import layer '{dst}'")
        for a, b in (ENGINE_SIBLINGS, ENGINE_SIBLINGS[::-1]):
            if matches(e.source, a + ".*") and matches(e.target, b + ".*"):
                bad.append(f"{where}: the engines are siblings")
    bad += [f"import cycle among: {', '.join(c)}" for c in cycles(edges)]
    return bad


def lazy_tables():
    """``(command path, target)`` of every entry of the CLI's lazy tables (``COMMANDS`` of
    tess_sim/cli.py and the tables of the groups it names, nested ones included): the imports
    ``load_command`` makes from a name held as data, which the AST walk above cannot see."""
    from tess_sim.cli import main
    from tess_sim.commands.lazy import LazyGroup, load_command

    out, groups = [], [("tess-sim", main)]
    while groups:
        path, group = groups.pop()
        for name, (target, _) in sorted(group.lazy.items()):
            out.append((f"{path} {name}", target))
            module = target.partition(":")[0]
            if module in modules() and layer_of(module) == "application":  # else never imported here
                command = load_command(target)
                if isinstance(command, LazyGroup):
                    groups.append((f"{path} {name}", command))
    return out


def lazy_table_violations(entries, known) -> list[str]:
    """A lazily loaded command must be an application-layer module of ours."""
    bad = []
    for path, target in entries:
        module = target.partition(":")[0]
        if module not in known:
            bad.append(f"{path}: {target}: {module} is not a module of ours")
        elif layer_of(module) != "application":
            bad.append(f"{path}: {target}: layer '{layer_of(module)}' holds no command (application only)")
    return bad


# ------------------------------------------------------------------------------------------ tests

def test_every_module_has_a_layer():
    for name in modules():
        layer_of(name)


def test_the_layers_hold():
    bad = violations(all_imports(), modules())
    assert not bad, "\n".join(bad)


def test_every_lazily_loaded_command_is_an_application_module():
    entries = lazy_tables()
    assert {"tess-sim run", "tess-sim data info"} <= {path for path, _ in entries}
    assert not lazy_table_violations(entries, modules())


def test_a_lazily_loaded_kernel_module_is_caught():
    bad = lazy_table_violations([("tess-sim x", "tess_sim.simulator.ledger:held"), ("tess-sim y", "os:path")],
                                modules())
    assert bad == ["tess-sim x: tess_sim.simulator.ledger:held: layer 'vocabulary' holds no command (application only)",
                   "tess-sim y: os:path: os is not a module of ours"], bad


def test_a_deliberate_upward_import_is_caught():
    mods = modules()
    edges = all_imports() + imports_of("from tess_sim.api import run\n", K + "ledger", False, mods)
    bad = violations(edges, mods)
    assert any("tess_sim.simulator.ledger:1 imports tess_sim.api: layer 'vocabulary' may not import "
               "layer 'application'" in b for b in bad), bad


def test_a_deliberate_cycle_and_function_level_import_are_caught():
    mods = modules()
    extra = imports_of("def f():\n    from tess_sim.simulator.network import Net\n", K + "placement", False, mods)
    extra += imports_of("from tess_sim.simulator.placement import place\n", K + "network", False, mods)
    bad = violations(all_imports() + extra, mods)
    assert any(b.startswith("import cycle among:") and K + "network" in b and K + "placement" in b for b in bad), bad
    assert any("placement:2 imports tess_sim.simulator.network inside a function" in b for b in bad), bad


def test_a_sideways_engine_import_is_caught():
    mods = modules()
    sim = next(m for m in mods if matches(m, ENGINE_SIBLINGS[1] + ".*"))
    extra = imports_of("import tess_sim.simulator.engines.analytical\n", sim, False, mods)
    assert any("the engines are siblings" in b for b in violations(all_imports() + extra, mods))


@pytest.mark.parametrize("source,is_package,expected", [
    ("from . import ledger", True, [K + "ledger"]),
    ("from .ledger import held", True, [K + "ledger"]),
    ("from ..ledger import held", False, []),            # outside the package: not ours
    ("import numpy", False, []),
])
def test_relative_imports_resolve(source, is_package, expected):
    mods = modules()
    assert [i.target for i in imports_of(source, "tess_sim.simulator", is_package, mods)] == expected


def test_setup_cfg_lists_every_package():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    found = {name for name, path in modules().items() if path.name == "__init__.py"}
    assert listed == found, (sorted(found - listed), sorted(listed - found))
    mapped = dict(line.split(" = ") for line in cfg["options"]["package_dir"].strip().splitlines())
    assert mapped == {package: folder for folder, package in SOURCES.items()}
