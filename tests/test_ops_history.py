"""The Ops tab lists the incident history from the database: after a restart the workbench
shows what `webops incidents --all` shows, `/` narrows it, Enter opens one's detail.

Real parts: the demo world run in virtual time into a real SQLite file, then closed; the real
CLI entry point and the real Textual app through its pilot on the same file.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import CliRunner
from tests.test_autonomy import _demo

pytestmark = pytest.mark.both_backends


async def _rows(pilot: object, table: object, want: int, tries: int = 60) -> list[str]:
    from textual.pilot import Pilot
    from textual.widgets import DataTable

    assert isinstance(pilot, Pilot) and isinstance(table, DataTable)
    for _ in range(tries):  # the history is read in a worker, drawn once per burst
        await pilot.pause(0.1)
        if table.row_count == want:
            break
    return [str(row.key.value) for row in table.ordered_rows]  # as shown, top to bottom


@pytest.mark.sqlite_only  # long; its storage paths run on PostgreSQL in shorter tests
async def test_a_restarted_workbench_lists_the_stored_history(
    db_path: Path, cli: CliRunner
) -> None:
    from textual.widgets import DataTable

    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.incident_detail import IncidentDetailDialog
    from widgets.targets_panel import TargetsPanel

    await _demo(db_path, 12.0, "all")
    args = ("--db", str(db_path), "incidents", "--all", "--limit", "200", "--json")
    listed = await asyncio.to_thread(cli, *args)  # the CLI runs its own event loop
    assert listed.code == 0, listed.out
    stored = json.loads(listed.out)
    closed = [i for i in stored if i["status"] in ("resolved", "recovered", "failed")]
    assert any(i["status"] == "resolved" for i in closed), stored
    targets = {i["target"] for i in closed}
    assert len(targets) >= 2, closed  # something for the filter to tell apart

    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        panel = app.query_one(TargetsPanel)
        table = panel.query_one("#incidents-table", DataTable)
        keys = await _rows(pilot, table, len(stored))
        open_ids = sorted(i["id"] for i in stored if i not in closed)
        closed_ids = sorted((i["id"] for i in closed), reverse=True)
        # The open ones first (oldest first), then the closed ones, newest first.
        assert keys == [str(i) for i in open_ids + closed_ids]
        row = table.get_row(str(closed[0]["id"]))
        assert [str(row[1]), row[4]] == [closed[0]["target"], closed[0]["status"]]

        # `/` and a target's name: only that target's incidents stay listed.
        name = sorted(targets)[0]
        await pilot.press("slash", *name)
        theirs = [str(i["id"]) for i in stored if name in f"{i['target']} {i['situation']}"]
        keys = await _rows(pilot, table, len(theirs))
        assert set(keys) == set(theirs) and len(keys) < len(stored)
        await pilot.press("escape")
        keys = await _rows(pilot, table, len(stored))

        # "resolved": only the resolved ones; Enter on one opens its detail and timeline.
        await pilot.press("slash", *"resolved")
        resolved = [str(i["id"]) for i in stored if i["status"] == "resolved"]
        keys = await _rows(pilot, table, len(resolved))
        assert set(keys) == set(resolved)
        table.focus()
        chosen = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        assert chosen in resolved
        await pilot.press("enter")
        for _ in range(40):
            await pilot.pause(0.05)
            if isinstance(app.screen, IncidentDetailDialog):
                break
        dialog = app.screen
        assert isinstance(dialog, IncidentDetailDialog) and str(dialog.detail.id) == chosen
        assert "timeline:" in dialog.text and "closed: resolved" in dialog.text
        await pilot.press("escape")
        await pilot.press("ctrl+q")


async def test_enter_on_a_target_shows_its_conditions_checks_and_incidents(
    db_path: Path,
) -> None:
    from textual.widgets import DataTable, Static

    from agent.clock import VirtualClock
    from agent.core.autopilot import Autopilot
    from agent.core.kernel import Kernel
    from agent.events import TargetChecked
    from agent.ops.targets import runbook_spec, target_spec
    from tests.service import ControlledService
    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.target_detail import TargetDetailDialog
    from widgets.targets_panel import TargetsPanel

    conditions = ["status == 200", 'body not contains "[b]bold[/]"']
    with ControlledService(healthy=False) as service:
        clock = VirtualClock()
        async with await Kernel.open(db_path, clock=clock.time) as kernel:
            await kernel.create_agent("ben", "bold")
            await kernel.ops.add_target(
                target_spec(
                    name="shop",
                    kind="http",
                    address=f"{service.url}/health?probe=[/]",
                    conditions=conditions,
                    context=["json.disk_pct < 90"],
                    interval_s=1.0,
                    retry_interval_s=0.5,
                )
            )
            await kernel.ops.add_runbook(
                runbook_spec(
                    name="fix-shop",
                    kind="http",
                    method="POST",
                    url=f"{service.url}/fix",
                    verify_target="shop",
                )
            )
            autopilot = Autopilot(kernel, approval_policy="all", clock=clock)
            await autopilot.run(asyncio.Event(), duration_s=6.5)
    assert autopilot.closed

    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.kernel is not None
        # A check as the autopilot reports it, its text looking like markup.
        said = "status == 200 (got 503) [red]not markup[/] and a long tail " + "x" * 60
        app.kernel.bus.publish(
            TargetChecked(target="shop", healthy=False, latency_ms=12.0, detail=said, health="down")
        )
        await pilot.press("o")
        panel = app.query_one(TargetsPanel)
        targets = panel.query_one("#targets-table", DataTable)
        await _rows(pilot, targets, 1)
        targets.focus()
        await pilot.press("enter")
        for _ in range(40):
            await pilot.pause(0.05)
            if isinstance(app.screen, TargetDetailDialog):
                break
        dialog = app.screen
        assert isinstance(dialog, TargetDetailDialog)
        text = dialog.text
        assert f"address {service.url}/health?probe=[/]" in text
        assert "  status == 200" in text and '  body not contains "[b]bold[/]"' in text
        assert "context:\n  json.disk_pct < 90" in text
        assert "retry 0.5 s" in text
        assert f"  {said}" in text  # whole, not cut like the "now" column
        assert "latency: " in text and "checks," in text  # the stored checks' sparkline
        closed = autopilot.closed[0]
        assert f"  {closed.id} resolved {closed.situation} (down)" in text
        shown = [str(s.render()) for s in dialog.query(".target-line").results(Static)]
        assert any("[red]not markup[/]" in line for line in shown), shown
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TargetDetailDialog)
        await pilot.press("ctrl+q")


_STATUSES = ("open", "awaiting_approval", "resolved", "recovered", "failed")


@settings(deadline=None, max_examples=40)
@given(
    history=st.dictionaries(st.integers(1, 400), st.sampled_from(_STATUSES), max_size=260),
    live=st.lists(st.tuples(st.integers(1, 400), st.sampled_from(_STATUSES)), max_size=80),
    live_first=st.booleans(),
)
def test_the_listed_history_is_bounded_and_counts_each_incident_once(
    history: dict[int, str], live: list[tuple[int, str]], live_first: bool
) -> None:
    """However the history read at start and the live changes interleave, at most
    RECENT_CLOSED closed incidents are kept (the newest), none is both open and closed, and
    each resolved one is counted once."""
    from agent.events import IncidentChanged
    from agent.ops.evidence import IncidentDetail
    from widgets.targets_panel import CLOSED, RECENT_CLOSED, TargetsPanel

    panel = TargetsPanel()  # not mounted: no repaint, only what it keeps
    found = [
        IncidentDetail.model_validate(
            {
                "id": i,
                "target": "shop",
                "situation": "s",
                "status": status,
                "health": "down",
                "owner": None,
                "steps": 1,
                "opened_at": 1.0,
                "closed_at": None,
                "summary": "",
                "actions": [],
                "evidence": [],
                "credits": [],
            }
        )
        for i, status in sorted(history.items(), reverse=True)
    ]
    changes = [
        IncidentChanged(
            incident_id=i,
            target="shop",
            situation="s",
            status=status,
            owner=None,
            steps=1,
            summary="",
        )
        for i, status in live
    ]
    if not live_first:
        panel.show_history(found)
    for change in changes:
        panel.record_incident(change)
    if live_first:
        panel.show_history(found)
    assert len(panel.closed) <= RECENT_CLOSED
    assert not set(panel.closed) & set(panel.incidents)
    assert all(c.status in CLOSED for c in panel.closed.values())
    ever_closed = {i for i, s in [*history.items(), *live] if s in CLOSED}
    assert set(panel.closed) == set(sorted(ever_closed)[-RECENT_CLOSED:])
    resolved = {i for i, s in [*history.items(), *live] if s == "resolved"}
    assert panel.resolved <= len(resolved) and set(panel.closed) <= ever_closed
