"""`--read-only` (k9s's habit): a workbench or API to look with, from which nothing can be run,
approved, created or started. Probed as a user would: keys in the real workbench, requests to a
real `webops serve --read-only`; the database is unchanged afterwards."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from textual.widgets import Static

from agent.core.kernel import Kernel
from tests.conftest import CliRunner
from tests.serve_process import ServeProcess
from tests.service import ControlledService, define_shop
from webops_tui.app import make_app
from webops_tui.config import Settings
from widgets.approvals_queue import ApprovalsQueue
from widgets.confirm_dialog import ConfirmDialog


@pytest.fixture
def waiting(db_path: Path, service: ControlledService) -> int:
    """ben, the shop, and ben asking to run fix-shop: one approval waiting."""

    async def setup() -> int:
        async with await Kernel.open(db_path) as kernel:
            await define_shop(kernel, service)
            await kernel.create_agent("ben", "bold")
            asked = await kernel.task("ben", "run fix-shop on shop")
            assert asked.approval_id is not None
            return asked.approval_id

    return asyncio.run(setup())


#: Rows that a kernel rewrites by just opening and closing (a token's last use, an agent's
#: saved mood): the same under any mode, so left out of the comparison.
VOLATILE = ('INSERT INTO "api_token"', 'INSERT INTO "agent"')


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        agents = [row[0] for row in conn.execute("SELECT name FROM agent ORDER BY name")]
        return agents + [line for line in conn.iterdump() if not line.startswith(VOLATILE)]


def _toasts(app: object) -> list[str]:
    from textual.app import App

    assert isinstance(app, App)
    return [str(t.render()) for t in app.screen.query("Toast").results(Static)]


async def test_the_read_only_workbench_decides_nothing_chats_nothing_starts_nothing(
    db_path: Path, service: ControlledService, waiting: int
) -> None:
    before = _dump(db_path)
    app = make_app(Settings(db_path=db_path, read_only=True))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        assert "read-only" in app.sub_title
        await pilot.press("p")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [a.id for a in app.query_one(ApprovalsQueue).pending] == [waiting]
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        await pilot.press("c", *"check shop", "enter")
        await pilot.press("escape", "n")
        await pilot.pause()
        app.main_screen.action_toggle_world()
        await app.workers.wait_for_complete()
        await pilot.pause()
        toasts = " ".join(_toasts(app))
        assert toasts.count("read-only") >= 4, toasts
        assert app.main_screen.demo.options is None
    assert service.fixes == 0
    assert _dump(db_path) == before


@pytest.fixture
def read_only_server(db_path: Path, waiting: int) -> Iterator[ServeProcess]:
    running = ServeProcess(db_path, "--read-only")
    yield running
    running.stop(signal.SIGKILL)


def test_serve_read_only_refuses_every_change_with_403_and_still_answers_reads(
    cli: CliRunner,
    db_path: Path,
    service: ControlledService,
    waiting: int,
    read_only_server: ServeProcess,
) -> None:
    made = cli("token", "create", "boss", "--role", "admin", "--json")
    headers = {"Authorization": f"Bearer {made.json()['token']}"}
    before = _dump(db_path)
    with httpx.Client(base_url=read_only_server.url, headers=headers, timeout=20) as client:
        for method, path, body in [
            ("POST", f"/api/approvals/{waiting}/approve", None),
            ("POST", f"/api/approvals/{waiting}/deny", None),
            ("POST", "/api/agents/ben/task", {"text": "check shop"}),
            ("POST", "/api/agents/ben/chat", {"message": "how are you?"}),
            ("POST", "/api/agents", {"name": "zed"}),
            ("DELETE", "/api/agents/ben", None),
            ("POST", "/api/tokens", {"name": "more"}),
            ("DELETE", "/api/targets/shop", None),
        ]:
            answer = client.request(method, path, json=body)
            assert answer.status_code == 403, (path, answer.text)
            assert "read-only" in answer.json()["error"]
        assert client.get("/api/agents").status_code == 200
        assert client.get(f"/api/approvals/{waiting}").json()["status"] == "pending"
    assert service.fixes == 0
    assert _dump(db_path) == before
    assert "read-only" in read_only_server.tail()


def test_serve_read_only_with_watch_is_refused_in_one_line(db_path: Path, waiting: int) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "webops_tui",
            "--db",
            str(db_path),
            "--read-only",
            "serve",
            "--watch",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--read-only" in done.stderr, done.stderr


def test_read_only_commands_read_and_every_change_or_run_is_refused(
    cli: CliRunner, db_path: Path, waiting: int, service: ControlledService
) -> None:
    """`webops --read-only` on any command: reads work; a change, an approval, a chat (which
    can run runbooks) or a loop is one line and exit 2, before anything runs; the file is
    byte for byte what it was (the kernel's own saves on close are let go too)."""
    before = db_path.read_bytes()
    fixes = service.fixes
    for reading in (("status",), ("agent", "list"), ("audit",), ("incidents", "--all")):
        assert cli("--read-only", *reading).code == 0, reading
    for changing in (
        ("agent", "create", "zed"),
        ("approvals", "--approve", str(waiting)),
        ("chat", "ben", "run fix-shop on shop"),
        ("task", "ben", "run fix-shop on shop"),
        ("run", "--duration", "1"),
        ("runbook", "remove", "fix-shop"),
    ):
        refused = cli("--read-only", *changing)
        assert refused.code == 2 and "read-only" in refused.err, (changing, refused.err)
        assert len(refused.err.strip().splitlines()) == 1
    assert service.fixes == fixes  # nothing ran
    assert db_path.read_bytes() == before
    assert cli("approvals", "--json").json()[0]["id"] == waiting  # still waiting
