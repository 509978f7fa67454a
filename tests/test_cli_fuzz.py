"""A hypothesis fuzzer over every `webops` command and option (issue 18, build item 7).

The command tree is walked from the typer app itself, so a new command or option is fuzzed
without touching this file. Each example runs one command with option values drawn from the
kinds that broke things before (numbers past 2^63, inf/nan/1e-320, empty strings, CRLF,
spaces, odd unicode) through the real entry point on a real database file. It must end with
exit 0, 1 or 2, never a traceback; a refused input (exit 2) leaves the database dump as it was.

`make test` runs a fast subset; `make fuzz` sets WEBOPS_FUZZ_EXAMPLES for a long run.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import typer.core
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CliRunner
from webops_tui.cli import app

#: Commands that block (a server, the workbench, a loop without end, a line-by-line chat, MCP
#: on stdio).
BLOCKING = {("run",), ("demo",), ("serve",), ("tui",), ("chat",), ("mcp",)}
EXAMPLES = int(os.environ.get("WEBOPS_FUZZ_EXAMPLES", "60"))


def _commands(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every leaf command under `command` with its words, and every group that also runs by
    itself (`webops approvals`); typer vendors its own click, so the tree is walked by shape,
    not by click's classes."""
    if hasattr(command, "list_commands"):  # a group: the root builds each one when asked
        context = typer.Context(command)
        runs_alone = path and getattr(command, "invoke_without_command", False)
        found = [(path, command)] if runs_alone else []
        for name in sorted(command.list_commands(context)):
            found += _commands(command.get_command(context, name), (*path, name))
        return found
    return [(path, command)]


def _is_path(param: Any) -> bool:
    return "pathlib" in repr(getattr(param, "type_descriptor", ""))


COMMANDS = [c for c in _commands(typer.main.get_command(app)) if c[0][:1] not in BLOCKING]

NASTY = st.sampled_from(
    [
        str(2**63),
        str(-(2**63) - 1),
        "9" * 40,
        "inf",
        "-inf",
        "nan",
        "1e308",
        "1e-320",
        "0",
        "-1",
        "",
        " ",
        "a b",
        "G ET",
        "x\r\ny",
        "http://",
        "http://a b",
        "h:0",
        "h:99999",
        "[/]",
        "\x1b]52;c;aGk=\x07",
        "anna",
        "shop",
        "1",
    ]
)
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
).filter(lambda s: not s.startswith("-"))
VALUE = st.one_of(NASTY, TEXT)


@st.composite
def invocations(draw: Any) -> list[str]:
    path, command = draw(st.sampled_from(COMMANDS))
    argv = list(path)
    for param in command.params:
        if isinstance(param, typer.core.TyperArgument):
            if param.required or draw(st.booleans()):
                argv.append("/nonexistent/x" if _is_path(param) else draw(VALUE))
        elif isinstance(param, typer.core.TyperOption) and param.name != "help":
            if not draw(st.integers(0, 2)):
                continue
            flag = param.opts[0]
            if param.is_flag:
                argv.append(flag)
            elif _is_path(param):
                argv += [flag, draw(st.sampled_from(["/nonexistent/x", "."]))]
            else:
                argv += [flag, *(draw(VALUE) for _ in range(max(param.nargs, 1)))]
    return argv


def dump(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as conn:
        return list(conn.iterdump())


@pytest.fixture
def stocked(cli: CliRunner) -> CliRunner:
    assert cli("agent", "create", "anna").code == 0
    assert cli("target", "add", "shop", "--address", "http://127.0.0.1:9/").code == 0
    return cli


def test_the_command_tree_is_walked() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"agent create", "target add", "runbook add", "approvals", "memory"} <= names


@settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=invocations())
def test_no_input_crashes_or_loses_data(stocked: CliRunner, db_path: Path, argv: list[str]) -> None:
    before = dump(db_path)
    result = stocked(*argv)
    assert result.code in (0, 1, 2), (argv, result)
    assert "Traceback" not in result.err, (argv, result.err)
    if result.code == 2:
        assert len(result.err.strip().splitlines()) <= 1, (argv, result.err)
        assert dump(db_path) == before, argv
