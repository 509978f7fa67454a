"""Empty views say which key (or command) fills them, and stored targets show at once.

Driven through the workbench's pilot on a real database, as a new operator meets it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable, Static

from tests.conftest import CliRunner
from webops_tui.app import WebopsApp, make_app
from webops_tui.config import Settings


def _said(app: WebopsApp, selector: str) -> str:
    widget = app.query_one(selector, Static)
    return str(widget.render()) if widget.display else ""


def test_each_empty_view_names_its_key(cli: CliRunner, db_path: Path) -> None:
    assert cli("agent", "create", "anna", "-p", "cautious").code == 0
    asyncio.run(_empty_views(db_path))


async def _empty_views(db_path: Path) -> None:
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause(0.5)
        ops = _said(app, "#targets-empty")
        assert "webops target add" in ops and "ctrl+p" in ops
        await pilot.press("p")
        await pilot.pause(0.3)
        assert "a approves and d denies" in _said(app, "#approval-why")
        await pilot.press("s")
        await pilot.pause(0.5)
        assert "Press c to ask it" in _said(app, "#skills-why")
        await pilot.press("m")
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        assert "c to chat with it" in _said(app, "#memory-detail")
        await pilot.press("slash", *"zzqx", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        assert "Escape clears the search" in _said(app, "#memory-detail")


async def test_with_no_agent_the_roster_names_the_keys(db_path: Path) -> None:
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("escape")  # the welcome: later
        await pilot.pause(0.3)
        roster = _said(app, "#roster-empty")
        assert "Press n to create one" in roster and "Press r to reload" in roster


def test_stored_targets_are_listed_before_any_check(cli: CliRunner, db_path: Path) -> None:
    assert cli("agent", "create", "anna", "-p", "cautious").code == 0
    for name in ("shop", "api"):
        assert cli("target", "add", name, "-a", f"http://127.0.0.1:9/{name}").code == 0
    asyncio.run(_stored_targets(db_path))


async def _stored_targets(db_path: Path) -> None:
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await app.workers.wait_for_complete()
        await pilot.pause(0.5)
        table = app.query_one("#targets-table", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert [row[0] for row in rows] == ["api", "shop"]
        assert all(row[1] == "-" and "not checked" in row[4] for row in rows), rows
        assert not app.query_one("#targets-empty", Static).display
        await pilot.press("slash", *"nothing-like-it")
        await pilot.pause(0.5)
        assert "No target matches" in _said(app, "#targets-empty")
        await pilot.press("escape")
        await pilot.pause(0.5)
        assert table.row_count == 2
        await pilot.press("enter")  # the first target's detail, with its address
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        shown = " ".join(str(s.render()) for s in app.screen.query(Static).results(Static))
        assert "127.0.0.1:9/api" in shown
