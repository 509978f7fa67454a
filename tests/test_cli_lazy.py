"""The root group builds a command only when it runs (webops_tui/cli/lazy_group.py), while
`webops --help`, each command's help and the typo hints stay what typer made of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main
from typer._click.utils import make_default_short_help

from tests.conftest import CliRunner
from webops_tui.cli import app
from webops_tui.cli.command_table import COMMANDS

COMMAND_MODULES = {entry.module for entry in COMMANDS.values()}


def _modules_after(*args: str) -> set[str]:
    """Every module a fresh `webops ARGS` process imported."""
    script = (
        "import sys\nfrom webops_tui.cli import main\n"
        f"try:\n    main({list(args)!r})\nfinally:\n"
        "    print('\\n' + __import__('json').dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def _loaded_after(*args: str) -> set[str]:
    """The command modules a fresh `webops ARGS` process imported."""
    return COMMAND_MODULES & _modules_after(*args)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_help_line_is_the_commands_own(name: str) -> None:
    group = typer.main.get_group(app)
    command = group.get_command(typer.Context(group), name)
    assert command is not None
    for width in (20, 45, 70, 120, 10_000):
        shown = make_default_short_help(COMMANDS[name].help, width)
        assert shown == command.get_short_help_str(width), (name, width)


def test_help_lists_every_command_without_importing_one(cli: CliRunner) -> None:
    result = cli("--help")
    assert result.code == 0
    listed = result.out.split("Commands:\n")[1].splitlines()
    assert [line.split()[0] for line in listed] == list(COMMANDS)
    assert _loaded_after("--help") == set()
    assert not {m for m in _modules_after("--help") if m == "mcp" or m.startswith("mcp.")}


def test_a_command_imports_its_module_only(cli: CliRunner, db_path: Path) -> None:
    cli("agent", "create", "anna")
    db = str(db_path)
    assert _loaded_after("--db", db, "status", "anna", "--json") == {"webops_tui.cli.status"}
    assert _loaded_after("--db", db, "agent", "list", "--json") == {"webops_tui.cli.agents"}
    assert _loaded_after("--db", db, "memory", "anna", "--json") == {"webops_tui.cli.memory"}
    assert "mcp" not in _modules_after("--db", db, "status", "anna", "--json")  # the MCP SDK


def test_the_postgresql_driver_is_imported_only_for_a_server(tmp_path: Path, pg_url: str) -> None:
    """asyncpg is the `postgres` extra: a file never needs it, a server URL loads it."""
    on_file = _modules_after("--db", str(tmp_path / "webops.db"), "agent", "create", "anna")
    assert "sqlalchemy" in on_file and "asyncpg" not in on_file
    assert "asyncpg" in _modules_after("--db", pg_url, "agent", "create", "anna")


def test_every_command_answers_help(cli: CliRunner) -> None:
    for name in COMMANDS:
        result = cli(name, "--help")
        assert result.code == 0, (name, result.err)
        assert result.out.startswith(f"Usage: webops {name} ")


def test_a_typo_is_told_the_nearest_command(cli: CliRunner) -> None:
    for typo, meant in (("statu", "status"), ("agnt", "agent"), ("incidnts", "incidents")):
        result = cli(typo)
        assert result.code == 2
        assert f"No such command {typo!r}. Did you mean {meant!r}" in result.err
