"""The CLI imports a command's module only when that command runs (tess_sim/commands/lazy.py):
``tess-sim --help`` lists the commands from the tables without importing them, and lists them
exactly as click would from the loaded commands."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import numpy as np
import pytest
from click.testing import CliRunner

from tess_sim.cli import COMMANDS, main
from tess_sim.commands.activity import ACTIVITY, activity
from tess_sim.commands.data import DATA, data
from tess_sim.commands.export import EXPORT, export
from tess_sim.commands.imports import IMPORT, import_group
from tess_sim.commands.lazy import load_command

#: what loading the CLI must not import (each costs a noticeable part of a second)
HEAVY = ("numpy", "pandas", "pydantic", "simpy", "matplotlib", "yaml", "scipy")
GROUPS = [("tess-sim", main, COMMANDS), ("data", data, DATA), ("export", export, EXPORT),
          ("activity", activity, ACTIVITY), ("import", import_group, IMPORT)]


def imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code`` (stdout is kept off)."""
    probe = (f"import io, json, sys, contextlib\nwith contextlib.redirect_stdout(io.StringIO()):\n"
             f"    try:\n        {code}\n    except SystemExit:\n        pass\nprint(json.dumps(sorted(sys.modules)))")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stdout.splitlines()[-1]))


def heavy(mods: set[str]) -> list[str]:
    return sorted(m for m in mods if m.split(".")[0] in HEAVY)


def ours(mods: set[str]) -> list[str]:
    return sorted(m for m in mods if m.startswith("tess_sim."))


def test_loading_the_cli_imports_click_and_nothing_heavy():
    mods = imported_after("import tess_sim.cli")
    assert heavy(mods) == []
    assert ours(mods) == ["tess_sim.cli", "tess_sim.commands", "tess_sim.commands.lazy", "tess_sim.interrupt",
                          "tess_sim.version"]


def test_help_imports_no_command_module():
    mods = imported_after("import tess_sim.cli; tess_sim.cli.main(['--help'])")
    assert heavy(mods) == [] and "tess_sim.commands.run" not in mods
    assert ours(mods) == ["tess_sim.cli", "tess_sim.commands", "tess_sim.commands.lazy", "tess_sim.interrupt",
                          "tess_sim.version"]


def test_a_command_imports_its_own_module_only(tmp_path):
    """``data info`` describes a recording with numpy: it loads neither ``data npz``'s workload
    machinery (pydantic, pandas) nor any other command."""
    np.save(tmp_path / "ev.npy", np.zeros((3, 4), dtype=np.int64))
    mods = imported_after(f"import tess_sim.cli; tess_sim.cli.main(['data', 'info', {str(tmp_path / 'ev.npy')!r}])")
    assert heavy(mods) == ["numpy"] + sorted(m for m in mods if m.startswith("numpy."))
    assert [m for m in ours(mods) if m.startswith("tess_sim.commands.")] == [
        "tess_sim.commands.data", "tess_sim.commands.data_info", "tess_sim.commands.lazy"]


def first_paragraph(help_text: str) -> str:
    return " ".join(help_text.split("\n\n")[0].split())


@pytest.mark.parametrize("path,group,table", GROUPS, ids=[g[0] for g in GROUPS])
def test_each_table_entry_is_its_command_and_its_first_paragraph(path, group, table):
    assert group.list_commands(None) == sorted(table)
    for name, (target, summary) in table.items():
        command = load_command(target)
        assert command.name == name, target
        assert summary == first_paragraph(command.help), f"{path} {name}: the table's text is not the help's"


@pytest.mark.parametrize("width", [50, 80, 200])
@pytest.mark.parametrize("path,group,table", GROUPS, ids=[g[0] for g in GROUPS])
def test_help_lists_the_commands_as_click_does_from_the_loaded_ones(path, group, table, width):
    """The Commands section made from the table equals click's own (click.Group.format_commands,
    which loads every command for its short help), at every terminal width."""
    ctx = click.Context(group, info_name=path, terminal_width=width)
    ours_, clicks = ctx.make_formatter(), ctx.make_formatter()
    group.format_commands(ctx, ours_)
    click.Group.format_commands(group, ctx, clicks)
    assert ours_.getvalue() == clicks.getvalue()
    assert ours_.getvalue().count("\n") >= len(table) + 1


def test_unknown_command_is_a_usage_error():
    r = CliRunner().invoke(main, ["nosuch"], standalone_mode=False)
    assert isinstance(r.exception, click.UsageError) and "No such command 'nosuch'" in str(r.exception)
    r = CliRunner().invoke(main, ["data", "nosuch"], standalone_mode=False)
    assert isinstance(r.exception, click.UsageError) and "No such command 'nosuch'" in str(r.exception)


def every_command(group=main, path=()):
    """The argument paths of every command and group of the CLI (groups loaded)."""
    out = [path]
    for name in group.list_commands(None):
        command = group.get_command(None, name)
        out += every_command(command, path + (name,)) if isinstance(command, click.Group) else [path + (name,)]
    return out


@pytest.mark.parametrize("path", every_command(), ids=lambda p: " ".join(p) or "tess-sim")
def test_every_command_loads_and_shows_its_help(path):
    """click's advice for lazy groups: run --help of each command, so that each one loads."""
    r = CliRunner().invoke(main, [*path, "--help"], prog_name="tess-sim")
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"Usage: {' '.join(('tess-sim',) + path)} ")
