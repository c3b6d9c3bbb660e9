"""Safe YAML reading for every file we read (workloads, hardware, cost tables): no Python objects,
no duplicate keys, no alias bombs, one-line errors naming the file, line and column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tess_sim.simulator import limits as L
from tess_sim.simulator.errors import UserError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_nodes(root: yaml.Node, where: str) -> None:
    """Refuse duplicate mapping keys (naming the key and both lines), recursive aliases and
    documents whose alias expansion exceeds ``MAX_YAML_NODES`` nodes (a billion-laughs bomb).
    Aliases are the same node object in the composed tree, so this walk is linear in the text."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def walk(node: yaml.Node, path: str) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise UserError(where, path or "(top level)", "recursive YAML alias (a node that contains itself)")
        active.add(key)
        size = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for k, v in node.value:
                name = k.value if isinstance(k, yaml.ScalarNode) else None
                sub = f"{path}.{name}" if path else str(name)
                if name is not None and k.tag != "tag:yaml.org,2002:merge":
                    line = k.start_mark.line + 1
                    if name in seen:
                        raise UserError(where, sub, f"duplicate key '{name}' (lines {seen[name]} and {line}); "
                                        "keep one")
                    seen[name] = line
                size += walk(k, sub) + walk(v, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                size += walk(v, f"{path}[{i}]")
        active.discard(key)
        sizes[key] = size
        if size > L.MAX_YAML_NODES:
            raise UserError(where, path or "(top level)", f"the YAML expands to more than {L.MAX_YAML_NODES:,} "
                            "values through its aliases (&anchor / *alias); refused (docs/limits.md)")
        return size

    walk(root, "")


def load_yaml_text(text: str, where: str) -> Any:
    """Parse one YAML document safely (no Python objects), refusing duplicate keys and alias bombs
    (see :func:`_check_nodes`); syntax errors name the line and column."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, where)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(where, "", f"YAML syntax error: {at}{problem}") from None
    except RecursionError:
        raise UserError(where, "", "YAML nested too deeply") from None
    finally:
        loader.dispose()


def read_yaml(path: str | Path) -> dict:
    """Read a YAML mapping, raising UserError for a missing file, bad syntax, duplicate keys, alias
    bombs, an empty file or a non-mapping."""
    path = Path(path)
    if not path.exists():
        raise UserError(str(path), "", "file not found")
    if path.is_dir():
        raise UserError(str(path), "", "is a directory, expected a YAML file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(str(path), "", f"cannot read file: {exc}") from None
    data = load_yaml_text(text, str(path))
    if data is None:
        raise UserError(str(path), "", "file is empty, expected a workload mapping")
    if not isinstance(data, dict):
        raise UserError(str(path), "(top level)", f"expected a mapping of keys, got a {type(data).__name__}")
    return data
