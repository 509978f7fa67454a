"""Failures the kernel survives are logged and counted, never silent: a subscriber that raises,
a flush against a file another process holds locked. The counts reach `status` (JSON and the
human table) and the API; `--log-file` / `WEBOPS_LOG` put the log in a file, never on screen."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.core.kernel import Kernel, KernelConfig
from agent.core.write_behind import Rows
from agent.events import KernelEvent
from agent.mind.emotions import Appraisal
from storage.database import Database
from tests.conftest import CliRunner
from tests.service import ControlledService, define_shop
from webops_tui.api.app import create_app
from webops_tui.cli.status import _render


@pytest.fixture
def log_handlers() -> Iterator[None]:
    """Leave the `webops` logger as it was (the CLI runs in-process here)."""
    logger = logging.getLogger("webops")
    before, level = list(logger.handlers), logger.level
    yield
    for handler in [h for h in logger.handlers if h not in before]:
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(level)


def _broken_subscriber(event: KernelEvent) -> None:
    raise RuntimeError(f"cannot draw [bold]{event.kind}[/]")  # data, never markup


async def test_a_subscriber_that_raises_is_logged_and_counted_in_the_api_status(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with await Kernel.open(db_path) as kernel:
        token = (await kernel.create_token("ops", "operator", by="test")).token
        await kernel.create_agent("anna", "cautious")
        kernel.bus.subscribe(_broken_subscriber)
        transport = httpx.ASGITransport(app=create_app(kernel))
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api.test", headers=headers
        ) as client:
            before = (await client.get("/api/agents/anna/status")).json()
            assert before["kernel"] == {"flush_errors": 0, "event_errors": 0, "last_error": ""}
            with caplog.at_level(logging.ERROR, logger="webops.events"):
                chat = await client.post("/api/agents/anna/chat", json={"message": "hello"})
            assert chat.status_code == 200, chat.text  # the failure broke nothing
            after = (await client.get("/api/agents/anna/status")).json()
    assert after["kernel"]["event_errors"] >= 1
    assert after["kernel"]["flush_errors"] == 0
    assert "RuntimeError: cannot draw" in after["kernel"]["last_error"]
    failures = [r for r in caplog.records if r.name == "webops.events"]
    assert failures and all(r.levelno == logging.ERROR and r.exc_info for r in failures)


async def test_the_human_status_shows_the_counts_only_when_something_failed(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("anna")
        _render(await kernel.status("anna"))
        assert "kernel:" not in capsys.readouterr().out
        kernel.bus.subscribe(_broken_subscriber)
        await kernel.feel("anna", Appraisal.THREAT)
        _render(await kernel.status("anna"))
    out = " ".join(capsys.readouterr().out.split())  # as read, whatever the terminal's width
    assert "kernel: 0 failed flushes, 1 failed event subscribers" in out
    assert "cannot draw [bold]emotions_changed[/]" in out


async def test_a_flush_against_a_locked_file_is_logged_counted_and_loses_nothing(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = await Database.open(db_path, busy_timeout_ms=20)
    async with Kernel(database) as kernel:
        await kernel.create_agent("anna", "cautious")
        await kernel.feel("anna", Appraisal.THREAT)
        fear = (await kernel.load_agent("anna")).mind.as_dict()["fear"]
        other = sqlite3.connect(db_path, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")  # another process holds the file
            with (
                caplog.at_level(logging.ERROR, logger="webops.kernel"),
                pytest.raises(Exception, match="busy"),
            ):
                await kernel.flush()
            status = await kernel.status("anna")
        finally:
            other.rollback()
            other.close()
        await kernel.flush()  # the file is free again: what failed is written now
    assert status.kernel.flush_errors == 1
    assert "locked" in status.kernel.last_error
    (failure,) = [r for r in caplog.records if r.name == "webops.kernel"]
    assert failure.exc_info and "flush failed" in failure.getMessage()
    with sqlite3.connect(db_path) as conn:
        (stored,) = conn.execute("SELECT emotions FROM agent WHERE name = 'anna'").fetchone()
    # Written after all (fear fades a hair while a loaded machine gets there).
    assert json.loads(stored)["fear"] == pytest.approx(fear, abs=0.01)


def test_log_file_option_and_environment_variable_write_the_log_not_the_terminal(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log_handlers: None
) -> None:
    by_option = tmp_path / "option.log"
    result = cli("--log-file", str(by_option), "agent", "create", "anna")
    assert result.code == 0 and result.err == ""
    assert "INFO webops.kernel: kernel opened on" in by_option.read_text()

    by_env = tmp_path / "env.log"
    monkeypatch.setenv("WEBOPS_LOG", str(by_env))
    monkeypatch.setenv("WEBOPS_LOG_LEVEL", "warning")
    assert cli("status", "anna").code == 0
    assert by_env.exists() and by_env.read_text() == ""  # INFO is below WARNING
    assert by_option.read_text().count("kernel opened") == 1  # one file at a time

    monkeypatch.setenv("WEBOPS_LOG_LEVEL", "chatty")
    bad = cli("status", "anna")
    assert bad.code == 2 and "unknown log level 'chatty'" in bad.err


#: Where each write-behind source writes (emotions and reflection progress: the agent row).
TABLES = (
    "audit",
    "check_sample",
    "relationship",
    "episode",
    "action_record",
    "action_value",
    "skill",
)


async def test_every_write_behind_source_keeps_its_rows_when_its_write_fails(
    db_path: Path, service: ControlledService
) -> None:
    database = await Database.open(db_path, busy_timeout_ms=20)
    config = KernelConfig(flush_interval_s=3600.0)  # only the flushes below
    async with Kernel(database, config=config) as kernel:
        await define_shop(kernel, service)
        await kernel.create_agent("anna", "bold")
        await kernel.task("anna", "check shop")  # a record, a skill, a sample, an audit entry
        asked = await kernel.task("anna", "run fix-shop on shop")  # high risk: she asks
        assert asked.approval_id is not None
        await kernel.deny(asked.approval_id, by="alice")  # a denial moves her traits (drift)
        anna = await kernel.load_agent("anna")
        anna.memory.learner.observe("shop:slow", "fix-shop", 1.0)
        kernel.relationships.record_feedback("anna", "operator:alice", True, kernel.clock())
        failed = []
        for step in kernel.write_behind.sources:
            if not isinstance(step, Rows):
                continue  # the message bus: its own tests
            other = sqlite3.connect(db_path, isolation_level=None)
            try:
                other.execute("BEGIN EXCLUSIVE")
                with pytest.raises(Exception, match="busy"):
                    await step.flush()
                failed.append(type(step.source).__name__)
            finally:
                other.rollback()
                other.close()
        assert kernel.health().flush_errors == 0  # single steps: not a kernel flush
        await kernel.flush()
    assert failed == [
        "AuditTrail",
        "CheckSamples",
        "RelationshipRows",
        "Episodes",
        "Emotions",
        "ReflectionProgress",
        "Drifts",
        "Records",
        "LearnedValues",
        "Skills",
    ]
    with sqlite3.connect(db_path) as conn:
        count = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES
        }
        pending, at = conn.execute(
            "SELECT importance_since_reflection, emotions_at FROM agent"
        ).fetchone()
    assert all(count.values()), count
    assert pending > 0 and at > 0
