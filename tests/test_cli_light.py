"""The read commands' light path (webops_tui/cli/light.py, storage/reader.py) answers as the
kernel does, on a populated database, without importing the ORM or Textual.

The kernel's answer is had by turning the light path off for one run (`reader_of` returns None,
as it does for a file the kernel must migrate). Both runs read one fixed now (emotions decay to
it), so their output must be byte-identical.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliRunner
from webops_tui.cli import light, runtime

WEBOPS = Path(sys.executable).with_name("webops")

READS = [
    ("status", "--json"),
    ("status", "ben", "--json"),
    ("status",),
    ("status", "cleo"),
    ("agent", "list", "--json"),
    ("agent", "list"),
    ("agent", "show", "anna", "--json"),
    ("agent", "show", "ben"),
    ("memory", "cleo", "--json"),
    ("memory", "cleo"),
    ("memory", "anna", "--json"),
    ("memory", "cleo", "--kind", "procedural", "--json"),
    ("memory", "cleo", "--kind", "semantic", "--json"),
    ("memory", "cleo", "--kind", "episodic", "--limit", "3"),
    ("memory", "cleo", "--limit", "100", "--json"),
    ("skills", "cleo", "--json"),
    ("skills", "cleo"),
    ("skills", "anna"),
    ("approvals", "--json"),
    ("approvals",),
]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo world after a short headless run: agents with episodes, records, skills,
    drift, runbooks and approvals, as a user's `webops demo` leaves them."""
    folder = tmp_path_factory.mktemp("light")
    folder.chmod(0o700)
    db = folder / "demo.db"
    demo = [str(WEBOPS), "--db", str(db), "demo", "--headless", "--duration", "15", "--json"]
    subprocess.run(demo, check=True, capture_output=True, timeout=180)
    return db


def _kernel_answer(cli: CliRunner, monkeypatch: pytest.MonkeyPatch, *args: str, db: Path) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(light, "reader_of", lambda ctx: None)
        return cli(*args, db=db)


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_the_light_path_answers_as_the_kernel(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, demo_db: Path, args: tuple[str, ...]
) -> None:
    now = time.time()
    monkeypatch.setattr(runtime, "clock", lambda: now)
    monkeypatch.setattr(light, "clock", lambda: now)
    fast = cli(*args, db=demo_db)
    slow = _kernel_answer(cli, monkeypatch, *args, db=demo_db)
    assert fast.code == slow.code == 0, (fast.err, slow.err)
    assert fast.out == slow.out
    if args == ("status", "--json"):
        lived = [a for a in json.loads(fast.out) if a["memory"]["episodic"] and a["skills"]]
        assert lived, "the demo left no history to compare"
    if args[:3] == ("memory", "cleo", "--kind") and args[3] != "semantic":  # demos reflect late
        assert json.loads(fast.out) if "--json" in args else "nothing" not in fast.out


def test_the_light_path_refuses_as_the_kernel(cli: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    for args in (("status", "--json"), ("agent", "list"), ("memory", "anna", "--json")):
        result = cli(*args, db=missing)
        assert result.code == 2
        assert result.err.startswith(f"webops: error: no webops database at {missing}")
        assert not missing.exists()
    cli("agent", "create", "anna")
    for args in (
        ("status", "zed", "--json"),
        ("agent", "show", "zed"),
        ("memory", "zed"),
        ("skills", "zed"),
    ):
        result = cli(*args)
        assert (result.code, result.err) == (2, "webops: error: no agent named 'zed'\n")
    bad_kind = cli("memory", "anna", "--kind", "dreams")
    assert (bad_kind.code, bad_kind.err) == (
        2,
        "webops: error: unknown memory kind 'dreams'; use one of episodic, semantic, procedural\n",
    )
    no_limit = cli("memory", "anna", "--limit", "0")
    assert (no_limit.code, no_limit.err) == (
        2,
        "webops: error: --limit must be at least 1, got 0\n",
    )


def test_read_commands_import_neither_the_orm_nor_textual(demo_db: Path) -> None:
    calls = "".join(
        f"    assert main(['--db', {str(demo_db)!r}, {', '.join(map(repr, args))}]) == 0\n"
        for args in READS
    )
    probe = (
        "import contextlib, io, sys, json\n"
        "from webops_tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"{calls}"
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "agent.mind.profile" in loaded  # the probe really answered
    for heavy in ("sqlalchemy", "sqlmodel", "aiosqlite", "textual", "numpy", "fastapi"):
        assert heavy not in loaded, heavy


def test_status_reads_while_a_run_writes(cli: CliRunner, db_path: Path) -> None:
    """WAL: a `webops run` holding the file for writing does not stop `status` reading it."""
    cli("agent", "create", "anna")
    run = subprocess.Popen(
        [str(WEBOPS), "--db", str(db_path), "run", "--duration", "20", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(5):
            result = cli("status", "anna", "--json")
            assert result.code == 0, result.err
            assert result.json()["name"] == "anna"
    finally:
        run.terminate()
        run.wait(timeout=30)


def test_pending_approvals_are_listed_as_the_kernel_lists_them(
    tmp_path: Path, db_path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remedy that waits for a person (with its dry run): both paths list it alike."""
    from tests.service import ControlledService
    from tests.test_dry_runs import _argv_runbook, _autopilot, _define, _toml

    with ControlledService(healthy=False) as service:
        _define(cli, _toml(tmp_path, service, _argv_runbook(service)))
        asyncio.run(_autopilot(db_path, 5.0))
    for args in (("approvals", "--json"), ("approvals",)):
        fast = cli(*args)
        slow = _kernel_answer(cli, monkeypatch, *args, db=db_path)
        assert fast.code == slow.code == 0, (fast.err, slow.err)
        assert fast.out == slow.out
    assert json.loads(cli("approvals", "--json").out), "no approval waited"
