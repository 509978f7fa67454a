"""The installed `webops` executable in real processes, and what it imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WEBOPS = Path(sys.executable).with_name("webops")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WEBOPS), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module", autouse=True)
def _installed() -> None:
    assert WEBOPS.is_file(), f"the console script is not installed next to {sys.executable}"


def test_agent_created_in_one_process_is_listed_by_another(db_path: Path) -> None:
    created = run("--db", str(db_path), "agent", "create", "anna", "--preset", "cautious", "--json")
    assert created.returncode == 0, created.stderr
    listed = run("agent", "list", "--json", env={"WEBOPS_DB": str(db_path)})
    assert listed.returncode == 0, listed.stderr
    (anna,) = json.loads(listed.stdout)
    assert anna["name"] == "anna"
    assert anna["personality"] == {
        "openness": 0.3,
        "conscientiousness": 0.85,
        "extraversion": 0.3,
        "agreeableness": 0.6,
        "neuroticism": 0.7,
    }


def test_bad_input_never_shows_a_traceback(db_path: Path) -> None:
    result = run("--db", str(db_path), "agent", "create", "anna", "--openness", "7")
    assert result.returncode == 2
    assert result.stderr == "webops: error: --openness must be between 0 and 1, got 7.0\n"
    assert result.stdout == ""


def test_python_dash_m_runs_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "webops_tui", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.startswith("webops-tui ")


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_kernel_and_storage_import_without_textual_or_typer() -> None:
    loaded = _modules_after("import storage.database, storage.repositories, agent.core.kernel")
    assert "textual" not in loaded
    assert "typer" not in loaded
    assert "sqlalchemy" in loaded  # the probe really imported storage


def test_help_imports_neither_textual_nor_sqlalchemy() -> None:
    loaded = _modules_after(
        "import contextlib, io\n"
        "from webops_tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['--help']) == 0\n"
        "    assert main(['agent', '--help']) == 0\n"
        "    assert main(['serve', '--help']) == 0"
    )
    assert "typer" in loaded
    for heavy in ("textual", "sqlalchemy", "sqlmodel", "numpy", "aiosqlite", "fastapi", "uvicorn"):
        assert heavy not in loaded, heavy


def test_cli_commands_do_not_import_textual(db_path: Path) -> None:
    loaded = _modules_after(
        "import contextlib, io\n"
        "from webops_tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['--db', {str(db_path)!r}, 'agent', 'create', 'anna']) == 0\n"
        f"    assert main(['--db', {str(db_path)!r}, 'agent', 'list', '--json']) == 0"
    )
    assert "sqlalchemy" in loaded
    assert "textual" not in loaded
    assert "fastapi" not in loaded and "uvicorn" not in loaded  # only `webops serve` needs them
