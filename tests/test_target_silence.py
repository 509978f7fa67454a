"""Silencing a target from the workbench: s in a target's detail asks how long and why, S
ends the silence, as `webops silence` would; the detail and the Ops row say "maintenance"
with the reason and end at once. Reached as a person does, through the real app's pilot on a
real SQLite file; what was stored is read back with the CLI (in its own process while the app runs).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.conftest import CliRunner
from webops_tui.app import WebopsApp, make_app
from webops_tui.config import Settings
from widgets.silence_dialog import SilenceDialog
from widgets.target_detail import TargetDetailDialog
from widgets.targets_panel import TargetsPanel

CLOSED = "127.0.0.1:9"


async def _until(pilot: Pilot[None], ready: object, what: str) -> None:
    for _ in range(400):
        if callable(ready) and ready():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"never: {what}")


async def _open_detail(pilot: Pilot[None], app: WebopsApp) -> TargetDetailDialog:
    await pilot.press("o")
    table = app.query_one(TargetsPanel).query_one("#targets-table", DataTable)
    await _until(pilot, lambda: table.row_count == 1, "the db row")
    table.focus()
    await pilot.press("enter")
    await _until(pilot, lambda: isinstance(app.screen, TargetDetailDialog), "the detail")
    assert isinstance(app.screen, TargetDetailDialog)
    return app.screen


async def _listed(db_path: Path) -> list[dict[str, object]]:
    """`webops silence list --json` in its own process beside the open workbench."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "webops_tui",
        "--db",
        str(db_path),
        "silence",
        "list",
        "--json",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    listed: list[dict[str, object]] = json.loads(out)
    return listed


def _status(app: WebopsApp) -> str:
    table = app.query_one(TargetsPanel).query_one("#targets-table", DataTable)
    return str(table.get_cell("db", "status"))


def test_s_silences_a_target_from_its_detail_and_shift_s_ends_it(
    cli: CliRunner, db_path: Path
) -> None:
    cli("agent", "create", "ben", "-p", "bold")
    assert cli("target", "add", "db", "-k", "tcp", "-a", CLOSED).code == 0
    app = make_app(Settings(db_path=db_path))

    async def work() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            dialog = await _open_detail(pilot, app)
            assert "s silence" in str(dialog.query_one(".detail-hint", Static).render())
            await pilot.press("s")
            await _until(pilot, lambda: isinstance(app.screen, SilenceDialog), "the silence dialog")
            asking = app.screen
            # A span the CLI refuses keeps the dialog open and says why.
            asking.query_one("#silence-for", Input).value = "forever"
            asking.query_one("#silence-reason", Input).focus()
            await pilot.press(*"upgrade [/b]", "enter")
            await pilot.pause()
            assert app.screen is asking
            said = str(asking.query_one("#silence-error", Static).render())
            assert "how long must be a span of time" in said, said
            asking.query_one("#silence-for", Input).value = "2h"
            await pilot.press("enter")
            await _until(pilot, lambda: "maintenance until" in dialog.text, "the detail redrawn")
            assert app.screen is dialog
            assert "upgrade [/b]" in dialog.text
            await _until(pilot, lambda: _status(app) == "maintenance", "the row in maintenance")
            listed = await _listed(db_path)
            assert [(e["targets"], e["reason"], e["on"]) for e in listed] == [
                (["db"], "upgrade [/b]", True)
            ]
            await pilot.press("S")
            await _until(pilot, lambda: "maintenance until" not in dialog.text, "the silence ended")
            assert await _listed(db_path) == []
            await _until(pilot, lambda: _status(app) != "maintenance", "the row out of it")
            # Nothing left to end: one line saying so, nothing changes.
            await pilot.press("S")
            await pilot.pause(0.3)
            await pilot.press("escape")
            await _until(pilot, lambda: not isinstance(app.screen, TargetDetailDialog), "closed")
            assert app.focused is app.query_one(TargetsPanel).query_one("#targets-table")
            await pilot.press("ctrl+q")

    asyncio.run(work())


def test_a_silence_over_other_targets_is_left_to_the_cli(cli: CliRunner, db_path: Path) -> None:
    cli("agent", "create", "ben", "-p", "bold")
    assert cli("target", "add", "db", "-k", "tcp", "-a", CLOSED).code == 0
    assert cli("silence", "*", "--for", "1h", "--reason", "all of it").code == 0
    app = make_app(Settings(db_path=db_path))

    async def work() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            dialog = await _open_detail(pilot, app)
            assert "maintenance until" in dialog.text and "all of it" in dialog.text
            await pilot.press("S")
            await pilot.pause(0.5)
            await app.workers.wait_for_complete()
            assert len(await _listed(db_path)) == 1
            assert "maintenance until" in dialog.text
            await pilot.press("ctrl+q")

    asyncio.run(work())


def test_a_read_only_workbench_silences_nothing(cli: CliRunner, db_path: Path) -> None:
    cli("agent", "create", "ben", "-p", "bold")
    assert cli("target", "add", "db", "-k", "tcp", "-a", CLOSED).code == 0
    app = make_app(Settings(db_path=db_path, read_only=True))

    async def work() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            dialog = await _open_detail(pilot, app)
            await pilot.press("s")
            await pilot.pause(0.3)
            assert app.screen is dialog  # nothing asked: nothing would be stored
            said = [n.message for n in app._notifications]
            assert any(m.startswith("read-only: no silence is set") for m in said), said
            assert "maintenance until" not in dialog.text
            await pilot.press("ctrl+q")

    asyncio.run(work())
    assert json.loads(cli("silence", "list", "--json").out) == []
