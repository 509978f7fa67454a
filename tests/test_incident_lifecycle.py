"""A person acknowledges, resolves, reopens and annotates incidents; the loop respects it; a
postmortem names the decision, the approval and the action that fixed it.

Real parts: a real SQLite file, a real HTTP service on 127.0.0.1, the autopilot in virtual
time, the real CLI entry point (and a second kernel on the same file standing in for another
process's `webops incident resolve`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.clock import VirtualClock
from agent.core.autopilot import Autopilot
from agent.core.kernel import Kernel
from agent.events import IncidentAcknowledged, IncidentChanged, KernelEvent
from tests.conftest import CliRunner
from tests.service import ControlledService
from tests.test_incident_evidence import _autopilot, _define, _run
from webops_tui.api.app import create_app
from webops_tui.cli.postmortem_format import md

# Each test on a `db_path` runs on SQLite and on PostgreSQL (tests/pg_fixtures.py).
pytestmark = pytest.mark.both_backends


def test_the_postmortem_names_the_decision_the_approval_and_the_fix(
    db_path: Path, cli: CliRunner
) -> None:
    with ControlledService(healthy=False) as service:
        autopilot = _run(db_path, service, risk="high", policy="all", duration_s=6.5)
    (closed,) = autopilot.closed
    assert closed.status == "resolved" and service.fixes == 1
    report = cli("incident", "report", str(closed.id))
    assert report.code == 0, report.err
    out = report.out
    assert out.startswith(f"# Postmortem: incident {closed.id} on shop")
    for section in ("## Summary", "## Impact", "## Timeline", "## What the agents tried"):
        assert section in out
    timeline = out.split("## Timeline")[1].split("## ")[0]
    items = [line for line in timeline.splitlines() if line.startswith("- ")]
    decision = [line for line in items if " decision: ben: " in line]
    assert decision and "fix\\-shop" not in decision[0] and "fix-shop" in decision[0]
    assert any(
        "approval: stand-in operator: approved \\#1 for fix-shop" in line for line in items
    ), items
    fixed = [line for line in items if " remedy: ben: fix-shop: " in line]
    assert fixed and "verified: fixed it" in fixed[0], items
    assert "What fixed it: fix-shop fixed it" in out
    assert "Time to detect: " in out and "Time to resolve: " in out
    assert cli("incident", "report", str(closed.id), "--format", "md").out == out
    as_json = cli("incident", "report", str(closed.id), "--format", "json").json()
    assert as_json["fixed_by"] == "fix-shop fixed it"
    assert as_json["time_to_resolve_s"] >= as_json["time_to_detect_s"] >= 0
    assert [s["kind"] for s in as_json["approvals"]] == ["approval", "approval"]
    assert as_json["decisions"] and as_json["incident"]["timeline"]
    text = cli("incident", "report", str(closed.id), "--format", "text")
    assert text.code == 0 and "Timeline\n" in text.out and "#" not in text.out.splitlines()[0]
    bad = cli("incident", "report", str(closed.id), "--format", "pdf")
    assert bad.code == 2 and "unknown --format 'pdf'" in bad.err and bad.err.count("\n") == 1


def test_a_person_acks_notes_resolves_and_reopens_by_the_cli(db_path: Path, cli: CliRunner) -> None:
    with ControlledService(healthy=False) as service:
        _run(db_path, service, risk="high", duration_s=30.0, stop_when_waiting=True)
    (waiting,) = cli("incidents", "--json").json()
    number = str(waiting["id"])
    acked = cli("incident", "ack", number, "--json")
    assert acked.code == 0, acked.err
    assert acked.json()["acknowledged_by"].startswith("operator:")
    hostile = "# boom | `rm -rf` \x1b[31mred\x1b]0;title\x07\n- item"
    assert cli("incident", "note", number, hostile).code == 0
    resolved = cli("incident", "resolve", number, "--note", "rolled back by hand", "--json")
    assert resolved.code == 0, resolved.err
    assert resolved.json()["status"] == "resolved" and resolved.json()["closed_at"] is not None
    assert resolved.json()["summary"].endswith(": rolled back by hand")
    # The remedy that waited for approval is withdrawn: nobody can run it now.
    assert cli("approvals", "--json").json() == []
    kinds = [s["kind"] for s in resolved.json()["timeline"]]
    assert {"acknowledged", "note", "resolved", "approval"} <= set(kinds)
    again = cli("incident", "resolve", number)
    assert again.code == 2 and "is already resolved" in again.err
    report = cli("incident", "report", number).out
    assert "resolved by a person (operator:" in report
    note_line = report.split("## Notes")[1].strip().splitlines()[0]
    assert "\x1b" not in report and "\\# boom \\| \\`rm -rf\\`" in note_line
    assert note_line.endswith("red - item")
    reopened = cli("incident", "reopen", number, "--note", "errors are back", "--json")
    assert reopened.code == 0 and reopened.json()["status"] == "open"
    assert reopened.json()["acknowledged_by"] is None  # reminders start again
    for args, says in (
        (("incident", "ack", "42"), "no incident with id 42"),
        (("incident", "reopen", number), "is open, not closed"),
        (("incident", "note", number, "   "), "a note needs some text"),
        (("incident", "resolve", "0"), "no incident with id 0"),
    ):
        answer = cli(*args)
        assert answer.code == 2 and says in answer.err, (args, answer.err)
        assert answer.err.count("\n") == 1
    refused = cli("--read-only", "incident", "resolve", number)
    assert refused.code != 0 and refused.err.count("\n") == 1
    assert cli("incident", "show", number, "--json").json()["status"] == "open"


async def _until(check: object, clock: VirtualClock, limit_s: float = 40.0) -> None:
    """Let the loop run in virtual time until `check()` holds (at most `limit_s`)."""
    assert callable(check)
    deadline = clock.monotonic() + limit_s
    while not await check():
        assert clock.monotonic() < deadline, "the loop never got there"
        await asyncio.sleep(0.01)


async def test_the_loop_yields_to_a_person_here_and_in_another_process(db_path: Path) -> None:
    """Resolved by a person (in this process, then through a second kernel on the file), the
    agents stop; reopened while the target still fails, they take the same incident up again."""
    clock = VirtualClock()
    events: list[KernelEvent] = []
    with ControlledService(healthy=False) as service:
        async with await Kernel.open(db_path, clock=clock.time) as kernel:
            await kernel.create_agent("ben", "bold")
            await _define(kernel, service, "high", 1.0)
            kernel.bus.subscribe(events.append)
            autopilot = Autopilot(kernel, approval_policy="human", clock=clock)
            stop = asyncio.Event()
            loop = asyncio.create_task(autopilot.run(stop, duration_s=300.0))

            async def waiting() -> bool:
                return bool(await kernel.incidents("awaiting_approval"))

            await _until(waiting, clock)
            (incident,) = await kernel.incidents("awaiting_approval")
            await kernel.ack_incident(incident.id, by="alice")
            await kernel.resolve_incident(incident.id, by="alice", note="fixed by hand")
            assert [e.by for e in events if isinstance(e, IncidentAcknowledged)] == ["alice"]
            statuses = [e.status for e in events if isinstance(e, IncidentChanged)]
            assert statuses[-1] == "resolved"

            async def let_go() -> bool:
                return "shop" not in autopilot.open

            await _until(let_go, clock)
            await kernel.reopen_incident(incident.id, by="alice", note="still failing")

            async def taken_up() -> bool:
                return bool(await kernel.approvals("pending"))

            await _until(taken_up, clock)  # the same incident, asking approval again
            assert [i.id for i in await kernel.incidents()] == [incident.id]
            # Another process resolves it: the loop's next write must not overwrite it.
            async with await Kernel.open(db_path) as other:
                await other.resolve_incident(incident.id, by="bob")
            await _until(let_go, clock)
            assert await kernel.approvals("pending") == []
            stop.set()
            await loop
            stored = await kernel.incident(incident.id)
            assert stored.status == "resolved" and stored.summary == "resolved by bob"
            assert service.fixes == 0  # no remedy ran after a person's word
            kinds = [s.kind for s in stored.timeline]
            assert kinds.count("resolved") == 2 and "reopened" in kinds
            assert kinds.count("decision") >= 2


@given(st.text(max_size=200))
def test_markdown_text_never_breaks_the_report(text: str) -> None:
    line = md(text)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert not line.lstrip().startswith(("- ", "+ ", "1. ", "1) "))
    i = 0
    while i < len(line):  # every special character is escaped by a backslash of its own
        if line[i] == "\\":
            i += 2
            continue
        assert line[i] not in "|`#*_<>[]", (text, line)
        i += 1


async def test_the_api_acks_notes_resolves_reopens_and_reports_as_the_token(
    db_path: Path,
) -> None:
    with ControlledService(healthy=False) as service:
        await _autopilot(db_path, service, risk="high", duration_s=30.0, stop_when_waiting=True)
    async with await Kernel.open(db_path) as kernel:
        tokens = {
            role: (await kernel.create_token(f"{role}-token", role, by="test")).token
            for role in ("viewer", "operator")
        }
        (incident,) = await kernel.incidents("awaiting_approval")
        app = create_app(kernel, max_body=4096, heartbeat_s=0.05)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:

            async def post(path: str, role: str = "operator", **body: object) -> httpx.Response:
                headers = {"Authorization": f"Bearer {tokens[role]}"}
                url = f"/api/incidents/{incident.id}/{path}"
                return await client.post(url, headers=headers, json=body or None)

            assert (await post("ack", role="viewer")).status_code == 403
            acked = await post("ack")
            assert (
                acked.status_code == 200
                and acked.json()["acknowledged_by"] == "token:operator-token"
            )
            assert (await post("notes", text="")).status_code == 422
            assert (await post("notes", text="x", extra=1)).status_code == 422
            noted = await post("notes", text="paged the db team")
            assert noted.status_code == 200
            resolved = await post("resolve", note="failed over by hand")
            assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
            again = await post("resolve")
            assert again.status_code == 422 and "already resolved" in again.text
            reopened = await post("reopen")
            assert reopened.status_code == 200 and reopened.json()["status"] == "open"
            headers = {"Authorization": f"Bearer {tokens['viewer']}"}
            report = await client.get(f"/api/incidents/{incident.id}/report", headers=headers)
            assert report.status_code == 200
            steps = [(s["kind"], s["actor"]) for s in report.json()["incident"]["timeline"]]
            for kind in ("acknowledged", "note", "resolved", "reopened"):
                assert (kind, "token:operator-token") in steps
            assert report.json()["notes"][0]["text"] == "paged the db team"


async def test_the_incident_dialog_acks_notes_resolves_and_reopens_by_keys(
    db_path: Path,
) -> None:
    from textual.widgets import DataTable, Footer, Input

    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.incident_detail import IncidentDetailDialog
    from widgets.note_dialog import NoteDialog
    from widgets.targets_panel import TargetsPanel

    with ControlledService(healthy=False) as service:
        await _autopilot(db_path, service, risk="high", duration_s=30.0, stop_when_waiting=True)
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:

        async def until(check: object) -> None:
            assert callable(check)
            for _ in range(400):
                if check():
                    return
                await pilot.pause(0.05)
            raise AssertionError("the workbench never got there")

        await pilot.pause()
        await pilot.press("o")
        panel = app.query_one(TargetsPanel)
        incidents = panel.query_one("#incidents-table", DataTable)
        await until(lambda: incidents.row_count == 1)
        incidents.focus()
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, IncidentDetailDialog))
        dialog = app.screen
        assert isinstance(dialog, IncidentDetailDialog)
        assert "a ack, r resolve, o reopen, n note" in str(
            dialog.query_one(".detail-hint").render()
        )
        assert dialog.query(Footer)
        await pilot.press("a")
        await until(lambda: "acknowledged by operator:" in dialog.text)
        await pilot.press("n")
        await until(lambda: isinstance(app.screen, NoteDialog))
        app.screen.query_one(Input).value = "[b]looking[/b] at it"
        await pilot.press("enter")
        await until(lambda: ": [b]looking[/b] at it" in dialog.text)
        await pilot.press("r")
        await until(lambda: dialog.detail.status == "resolved")
        assert "resolved by operator:" in dialog.text
        await pilot.press("r")  # again: one line saying why, the dialog stays
        await pilot.pause(0.2)
        assert app.screen is dialog and dialog.detail.status == "resolved"
        await pilot.press("o")
        await until(lambda: dialog.detail.status == "open")
        await pilot.press("escape")
        await pilot.press("ctrl+q")
    async with await Kernel.open(db_path) as kernel:
        (stored,) = await kernel.incidents()
        kinds = [s.kind for s in (await kernel.incident(stored.id)).timeline]
        assert {"acknowledged", "note", "resolved", "reopened"} <= set(kinds)
