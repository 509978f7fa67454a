"""Snapshots of the workbench's states an operator meets, each in two themes.

What a pilot test checks by query, these check by eye: the `?` key overlay, the Ops filter
narrowing the tables, an approval's confirmation showing the exact request with its secret
masked, and text with brackets shown literally. Everything runs on a real database; addresses
point at a closed port (127.0.0.1:9), so no port number or latency changes between runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from agent.core.kernel import Kernel
from agent.ops.targets import runbook_spec, target_spec
from tests.conftest import CliRunner
from webops_tui.app import WebopsApp, make_app
from webops_tui.config import Settings

THEMES = ["webops-dark", "webops-high-contrast"]
SIZE = (100, 30)
CLOSED = "http://127.0.0.1:9"

Steps = Callable[[Pilot[None]], Awaitable[None]]


def _app(db_path: Path, theme: str) -> WebopsApp:
    return make_app(Settings(db_path=db_path, theme=theme))


async def _settle(pilot: Pilot[None]) -> None:
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("theme", THEMES)
def test_snapshot_keys_help(snap_compare, cli: CliRunner, db_path: Path, theme: str) -> None:
    cli("agent", "create", "anna", "-p", "cautious")

    async def open_help(pilot: Pilot[None]) -> None:
        await pilot.press("question_mark")
        await _settle(pilot)

    assert snap_compare(_app(db_path, theme), terminal_size=SIZE, run_before=open_help)


@pytest.mark.parametrize("theme", THEMES)
def test_snapshot_ops_filter(snap_compare, cli: CliRunner, db_path: Path, theme: str) -> None:
    cli("agent", "create", "anna", "-p", "cautious")
    for name in ("shop", "search", "api"):
        assert cli("target", "add", name, "-a", f"{CLOSED}/{name}").code == 0

    async def filter_shop(pilot: Pilot[None]) -> None:
        await pilot.press("o")
        await pilot.press("slash")
        pilot.app.query_one("#ops-filter", Input).cursor_blink = False  # a blink is no change
        await pilot.press(*"sh")
        await _settle(pilot)

    assert snap_compare(_app(db_path, theme), terminal_size=SIZE, run_before=filter_shop)


async def _pending_approval(db_path: Path) -> None:
    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("ben", "bold")
        await kernel.ops.add_target(
            target_spec(name="shop", kind="http", address=f"{CLOSED}/health")
        )
        await kernel.ops.add_runbook(
            runbook_spec(
                name="fix-shop",
                kind="http",
                method="POST",
                url=f"{CLOSED}/fix",
                headers={"Authorization": "Bearer {secret:TOKEN}"},
                body='{"token": "{secret:TOKEN}", "site": "{target}", "mode": "[b]gentle"}',
                secrets={"TOKEN": "hunter2-very-secret"},
                risk="high",
                verify_target="shop",
            )
        )
        asked = await kernel.task("ben", "run fix-shop on shop")
        assert asked.status == "awaiting_approval"


@pytest.mark.parametrize("theme", THEMES)
def test_snapshot_approval_confirmation(snap_compare, db_path: Path, theme: str) -> None:
    import asyncio

    asyncio.run(_pending_approval(db_path))

    async def confirm(pilot: Pilot[None]) -> None:
        await pilot.press("p")
        await _settle(pilot)
        await pilot.press("a")
        await _settle(pilot)

    assert snap_compare(_app(db_path, theme), terminal_size=SIZE, run_before=confirm)
