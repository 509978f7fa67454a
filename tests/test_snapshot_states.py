"""Snapshots of the workbench's states an operator meets, each in two themes.

What a pilot test checks by query, these check by eye: the `?` key overlay, the Ops filter
narrowing the tables, an approval's confirmation showing the exact request with its secret
masked, an approval's detail with what its dry run printed, a target in maintenance (until
when, and why), and text with brackets shown literally. Everything runs on a real database;
addresses point at a closed port (127.0.0.1:9), so no port number or latency changes between runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

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


async def _dry_run_approval(db_path: Path) -> None:
    """A risky command runbook asked for: its dry run (echo, same output on every machine)
    ran first, and the approval waits with what it printed."""
    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("anna", "cautious")
        await kernel.ops.add_target(
            target_spec(name="shop", kind="http", address=f"{CLOSED}/health")
        )
        await kernel.ops.add_runbook(
            runbook_spec(
                name="restart-shop",
                kind="command",
                argv=["true"],
                risk="high",
                verify_target="shop",
                dry_run={"argv": ["echo", "would restart deploy/shop: 1 pod [dry-run=server]"]},
            )
        )
        asked = await kernel.task("anna", "run restart-shop on shop")
        assert asked.status == "awaiting_approval"


@pytest.mark.parametrize("theme", THEMES)
def test_snapshot_approval_detail_with_a_dry_run(snap_compare, db_path: Path, theme: str) -> None:
    import asyncio

    asyncio.run(_dry_run_approval(db_path))

    async def detail(pilot: Pilot[None]) -> None:
        await pilot.press("p")
        await _settle(pilot)
        await pilot.press("enter")
        await _settle(pilot)

    assert snap_compare(_app(db_path, theme), terminal_size=SIZE, run_before=detail)


@pytest.mark.parametrize("theme", THEMES)
def test_snapshot_a_target_in_maintenance(
    snap_compare, cli: CliRunner, db_path: Path, theme: str
) -> None:
    """The Ops row of a silenced target: "maintenance", until when and why. The silence (a
    named one, as the ops document sets it) ends at a fixed instant far ahead, so the end
    shown is the same on every run; no check runs in the workbench alone."""
    cli("agent", "create", "anna", "-p", "cautious")
    assert cli("target", "add", "db", "-k", "tcp", "-a", "127.0.0.1:9").code == 0
    assert cli("target", "add", "shop", "-a", f"{CLOSED}/shop").code == 0

    async def silence() -> None:
        from datetime import UTC, datetime

        from agent.ops.maintenance import SilenceSpec

        async with await Kernel.open(db_path) as kernel:
            spec = SilenceSpec(
                name="upgrade",
                targets=["db"],
                starts_at=datetime(2026, 1, 1, tzinfo=UTC),
                ends_at=datetime(2099, 1, 1, 2, 0, tzinfo=UTC),
                reason="db upgrade [b]v15[/b]",
            )
            await kernel.silences.put_silence(spec)

    import asyncio

    asyncio.run(silence())

    async def ops(pilot: Pilot[None]) -> None:
        await pilot.press("o")
        table = pilot.app.query_one("#targets-table", DataTable)
        for _ in range(300):  # the stored targets and what holds them are read in a worker
            await pilot.pause(0.1)
            if table.row_count == 2 and str(table.get_cell("db", "status")) == "maintenance":
                break
        await _settle(pilot)

    assert snap_compare(_app(db_path, theme), terminal_size=SIZE, run_before=ops)
