"""An incident remembers what confirmed it and why each remedy got (or did not get) credit;
the CLI, the API and the workbench show it; approving a remedy re-checks a stale fault first.

Real parts: a real SQLite file, real HTTP services on 127.0.0.1, the autopilot in virtual time,
the real CLI entry point and the real Textual app through its pilot.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from agent.clock import VirtualClock
from agent.core.autopilot import Autopilot
from agent.core.kernel import Kernel
from agent.events import IncidentChanged, KernelEvent, TargetChecked
from agent.ops.confirmation import MAX_EVIDENCE, Watch
from agent.ops.incidents import ApprovalPolicy
from agent.ops.targets import runbook_spec, target_spec
from storage import migrations
from tests.conftest import CliRunner
from tests.service import ControlledService


async def _define(kernel: Kernel, service: ControlledService, risk: str, interval_s: float) -> None:
    """`shop` on the service (two failing checks open an incident) and `fix-shop`, its remedy."""
    await kernel.ops.add_target(
        target_spec(
            name="shop",
            kind="http",
            address=f"{service.url}/health",
            conditions=["status == 200"],
            criticality="high",
            interval_s=interval_s,
            timeout_s=2,
            failure_threshold=2,
        )
    )
    await kernel.ops.add_runbook(
        runbook_spec(
            name="fix-shop",
            kind="http",
            method="POST",
            url=f"{service.url}/fix",
            risk=risk,
            timeout_s=5,
            verify_target="shop",
        )
    )


async def _autopilot(
    db_path: Path,
    service: ControlledService,
    *,
    risk: str = "low",
    policy: ApprovalPolicy = "human",
    duration_s: float = 10.0,
    interval_s: float = 1.0,
    approve_delay_s: float = 1.0,
    recover_while_waiting: bool = False,
    stop_when_waiting: bool = False,
) -> Autopilot:
    """Ben alone watches the shop in virtual time until `duration_s` has passed."""
    clock = VirtualClock()
    async with await Kernel.open(db_path, clock=clock.time) as kernel:
        await kernel.create_agent("ben", "bold")
        await _define(kernel, service, risk, interval_s)
        stop = asyncio.Event()

        def follow(event: KernelEvent) -> None:
            if isinstance(event, IncidentChanged) and event.status == "awaiting_approval":
                if recover_while_waiting:
                    service.healthy = True  # by itself, while the approval waits
                if stop_when_waiting:
                    stop.set()

        kernel.bus.subscribe(follow)
        autopilot = Autopilot(
            kernel, approval_policy=policy, approve_delay_s=approve_delay_s, clock=clock
        )
        await autopilot.run(stop, duration_s=duration_s)
    return autopilot


def _run(db_path: Path, service: ControlledService, **options: Any) -> Autopilot:
    """`_autopilot` from a synchronous test (one that runs the CLI, which runs its own loop)."""
    return asyncio.run(_autopilot(db_path, service, **options))


def test_the_watch_keeps_the_failing_checks_of_the_current_run() -> None:
    watch = Watch()
    watch.observe("shop", "down", 1.0, detail="got 503", latency_ms=12.0)
    watch.observe("shop", "up", 2.0)
    assert watch.evidence("shop") == []  # a passing check ends the run
    for i in range(4):
        watch.observe("shop", "degraded" if i % 2 else "down", 10.0 + i, detail=f"#{i}")
    # Two failing checks confirm a fault (the default threshold): the latest two are kept.
    assert [(c.ts, c.health, c.detail) for c in watch.evidence("shop")] == [
        (12.0, "down", "#2"),
        (13.0, "degraded", "#3"),
    ]
    assert watch.failing_at("shop") == 13.0  # the existing API, unchanged
    watch.forget_run("shop")
    assert watch.evidence("shop") == []
    from agent.ops.targets import TargetSpec

    strict = TargetSpec(name="api", kind="http", address="http://x/", failure_threshold=20)
    for i in range(30):
        watch.observe(strict, "down", float(i))
    assert len(watch.evidence("api")) == MAX_EVIDENCE  # bounded, whatever the threshold


def test_an_incident_shows_the_checks_that_confirmed_it_and_the_credit_of_its_fix(
    db_path: Path, cli: CliRunner
) -> None:
    with ControlledService(healthy=False) as service:
        autopilot = _run(db_path, service, duration_s=6.5)
    assert service.fixes == 1
    (closed,) = autopilot.closed
    listed = cli("incident", "list", "--json")
    assert listed.code == 0, listed.err
    (incident,) = listed.json()
    assert (incident["id"], incident["status"], incident["health"]) == (
        closed.id,
        "resolved",
        "down",
    )
    shown = cli("incident", "show", str(closed.id), "--json")
    assert shown.code == 0
    timeline = shown.json().pop("timeline")
    assert shown.json() | {"timeline": []} == incident  # a listing leaves the timeline out
    # Opened, the two confirming checks, the remedy with its credit, closed: in time order.
    # (The owner's decisions and the team's messages about it are steps too: see
    # tests/test_incident_lifecycle.py.)
    kinds = [step["kind"] for step in timeline if step["kind"] not in ("decision", "message")]
    assert sorted(kinds) == sorted(["opened", "check", "check", "remedy", "closed"])
    assert kinds[-1] == "closed" and timeline[-1]["text"] == "closed: resolved"
    assert [step["ts"] for step in timeline] == sorted(step["ts"] for step in timeline)
    (remedy,) = [step for step in timeline if step["kind"] == "remedy"]
    assert remedy["actor"] == "ben" and remedy["text"].startswith("fix-shop: ")
    assert "; credit 1 (credited: failing check" in remedy["text"]
    # The two failing checks of the run that opened it, oldest first, as the target answered.
    evidence = incident["evidence"]
    assert len(evidence) == 2 and evidence[0]["ts"] < evidence[1]["ts"]
    assert all(e["health"] == "down" and "got 503" in e["detail"] for e in evidence)
    assert all(e["latency_ms"] is not None for e in evidence)
    (credit,) = incident["credits"]
    assert (credit["action"], credit["fixed"], credit["credit"]) == ("fix-shop", True, 1.0)
    assert credit["why"].startswith("credited: failing check ")
    assert credit["why"].endswith("s before, verification passed")
    assert {"target", "situation", "owner", "steps", "opened_at", "closed_at", "summary"} <= set(
        incident
    )
    human = cli("incident", "show", str(closed.id))
    assert human.code == 0
    assert f"incident {closed.id}: shop status=503 (down), resolved" in human.out
    assert "confirmed by:" in human.out and "(got 503)" in human.out
    assert "fix-shop: fixed it, credit 1 (credited: failing check" in human.out
    assert "timeline:" in human.out and "closed: resolved" in human.out
    table = cli("incident", "list")
    assert "shop" in table.out and "resolved" in table.out and "down" in table.out


def test_bad_incident_requests_are_one_line_errors(db_path: Path, cli: CliRunner) -> None:
    assert cli("agent", "create", "anna").code == 0
    assert cli("incident", "list").out.strip() == "no incidents"
    assert cli("incident", "list", "--json").json() == []
    for args, says in (
        (("incident", "show", "42"), "no incident with id 42"),
        (("incident", "show", "99999999999999999999"), "no incident with id"),
        (("incident", "list", "--status", "fixed"), "unknown incident status 'fixed'"),
        (("incident", "list", "--limit", "0"), "--limit must be between 1 and"),
        (("incident", "show", "one"), "'ID'"),
    ):
        answer = cli(*args)
        assert answer.code == 2, (args, answer)
        assert answer.err.startswith("webops: error: ") and says in answer.err, answer.err
        assert answer.err.count("\n") == 1 and answer.out == ""


def test_a_human_approved_fix_is_credited_and_says_who_approved_it(
    db_path: Path, cli: CliRunner
) -> None:
    with ControlledService(healthy=False) as service:
        autopilot = _run(db_path, service, risk="high", policy="all", duration_s=6.5)
    (closed,) = autopilot.closed
    assert closed.status == "resolved" and service.fixes == 1
    (credit,) = cli("incident", "show", str(closed.id), "--json").json()["credits"]
    assert (credit["action"], credit["fixed"], credit["credit"]) == ("fix-shop", True, 1.0)
    assert "before stand-in operator approved it, verification passed" in credit["why"]
    timeline = cli("incident", "show", str(closed.id), "--json").json()["timeline"]
    approvals = [(s["actor"], s["text"]) for s in timeline if s["kind"] == "approval"]
    assert [text.split(" #")[0] for _, text in approvals] == ["asked approval", "approved"]
    assert approvals[0][0] == "ben" and approvals[1][0] == "stand-in operator"


def test_incidents_lists_open_ones_and_with_all_the_history(db_path: Path, cli: CliRunner) -> None:
    """`webops incidents` is what is being worked; `--all` adds the closed ones."""
    with ControlledService(healthy=False) as service:
        autopilot = _run(db_path, service, duration_s=6.5)
    (closed,) = autopilot.closed
    assert cli("incidents", "--json").json() == []
    assert cli("incidents").out.strip() == "no open incidents (--all shows closed ones)"
    everything = cli("incidents", "--all", "--json")
    assert everything.code == 0
    assert [(i["id"], i["status"]) for i in everything.json()] == [(closed.id, "resolved")]
    assert cli("incidents", "--all", "--target", "shop", "--json").json() == everything.json()
    assert cli("incidents", "--all", "--target", "nope", "--json").json() == []
    assert cli("incident", "list", "--target", "nope").out.strip() == "no incidents on nope"
    table = cli("incidents", "--all")
    assert table.code == 0 and "resolved" in table.out and "shop" in table.out
    # stdout is not a terminal: plain columns a script can split, no box drawing, no folding.
    header, row = table.out.splitlines()
    columns = ["id", "target", "symptom", "health", "status", "owner", "steps", "opened"]
    assert header.split() == columns
    assert row.split()[:5] == [str(closed.id), "shop", "status=503", "down", "resolved"]
    assert not set(table.out) & set("│┃━─┏┗┡╇")


def test_incidents_shows_one_still_waiting_for_approval(db_path: Path, cli: CliRunner) -> None:
    with ControlledService(healthy=False) as service:
        _run(db_path, service, risk="high", duration_s=30.0, stop_when_waiting=True)
    (waiting,) = cli("incidents", "--json").json()
    assert waiting["status"] == "awaiting_approval" and waiting["closed_at"] is None
    timeline = cli("incident", "show", str(waiting["id"]), "--json").json()["timeline"]
    timeline = [step for step in timeline if step["kind"] not in ("decision", "message")]
    kinds = [step["kind"] for step in timeline]  # the confirming checks came before it opened
    assert kinds == ["check", "check", "opened", "approval"], timeline
    assert timeline[-1]["text"].startswith("asked approval #1 for fix-shop")


def test_a_denied_remedy_is_recorded_with_no_credit(db_path: Path, cli: CliRunner) -> None:
    with ControlledService(healthy=False) as service:
        _run(db_path, service, risk="high", policy="none", duration_s=6.5)
    assert service.fixes == 0
    incident = cli("incident", "list", "--json").json()[-1]  # the first one
    credits = incident["credits"]
    assert credits and credits[0]["action"] == "fix-shop" and credits[0]["credit"] is None
    assert credits[0]["why"] == "no credit: stand-in operator denied it; it did not run"
    assert len(credits) == len(incident["actions"])


def test_an_approval_given_after_the_target_recovered_runs_nothing(
    db_path: Path, cli: CliRunner
) -> None:
    """The stand-in operator approves 5 s after the request; the shop recovered meanwhile and
    the autopilot has not checked it again yet (every 30 s): the approval's re-check finds it
    healthy, nothing runs, and the incident closes as recovered with no credit."""
    with ControlledService(healthy=False) as service:
        autopilot = _run(
            db_path,
            service,
            risk="high",
            policy="wait",
            approve_delay_s=5.0,
            interval_s=30.0,
            duration_s=50.0,
            recover_while_waiting=True,
        )
    assert service.fixes == 0
    (closed,) = autopilot.closed
    assert closed.status == "recovered" and closed.actions == []
    shown = cli("incident", "show", str(closed.id), "--json").json()
    assert shown["status"] == "recovered" and shown["credits"] == []
    assert "nothing ran" in shown["summary"]
    assert cli("approvals", "--json").json() == []  # none pending any more
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT status, decided_by, result FROM approval").fetchone()
    assert row[0] == "withdrawn" and row[1] == "recovered before it ran"
    assert "a re-check of shop found it healthy" in row[2]
    audit = cli("audit", "--json").json()
    assert any(e["event"] == "withdrawn" and e["actor"] == "stand-in operator" for e in audit)


def test_approving_from_the_cli_re_checks_first(db_path: Path, cli: CliRunner) -> None:
    """The loop stopped while the remedy waits. Approved from the CLI while the shop is still
    down, it runs; approved after the shop recovered, nothing runs and one line says why."""
    with ControlledService(healthy=False) as service:
        _run(db_path, service, risk="high", duration_s=30.0, stop_when_waiting=True)
        before = service.hits
        ran = cli("approvals", "--approve", "1", "--by", "alice")
        assert ran.code == 0, ran.err
        assert ran.out.startswith("approval 1 executed") and service.fixes == 1
        assert service.hits == before + 1  # the re-check, then the remedy ran
    with ControlledService(healthy=False) as service:
        other = db_path.with_name("other.db")
        _run(other, service, risk="high", duration_s=30.0, stop_when_waiting=True)
        service.healthy = True
        answer = cli("approvals", "--approve", "1", "--by", "alice", db=other)
        again = cli("approvals", "--approve", "1", db=other)
    assert answer.code == 0, answer.err
    assert answer.out.count("\n") == 1
    assert answer.out.startswith("approval 1 withdrawn: nothing ran")
    assert "recovered before it ran: a re-check of shop found it healthy" in answer.out
    assert service.fixes == 0
    assert again.code == 2 and "already withdrawn" in again.err


def test_a_version_9_database_gets_the_new_columns_and_keeps_its_incidents(
    db_path: Path, cli: CliRunner
) -> None:
    conn = sqlite3.connect(db_path)
    for migration in migrations.MIGRATIONS:
        if migration.version <= 9:
            for statement in migration.statements:
                conn.execute(statement)
    conn.execute(
        "INSERT INTO incident (target, situation, status, owner, summary, steps, actions, "
        "health, opened_at, closed_at) VALUES ('shop', 'slow', 'resolved', 'ben', "
        "'restart fixed it', 3, '[[\"restart\", true]]', 'degraded', 100, 104.5)"
    )
    conn.execute("PRAGMA user_version = 9")
    conn.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID}")
    conn.commit()
    conn.close()
    shown = cli("incident", "show", "1", "--json")
    assert shown.code == 0, shown.err
    incident = shown.json()
    assert incident["actions"] == [["restart", True]] and incident["health"] == "degraded"
    assert incident["evidence"] == [] and incident["credits"] == []
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT evidence, credits FROM incident").fetchall() == [("[]", "[]")]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST_VERSION
    human = cli("incident", "show", "1")
    assert "(no failing checks recorded)" in human.out and "(none tried)" in human.out


async def test_the_api_serves_incidents_to_a_viewer(db_path: Path) -> None:
    import httpx

    from webops_tui.api.app import create_app

    with ControlledService(healthy=False) as service:
        await _autopilot(db_path, service, duration_s=6.5)
    async with await Kernel.open(db_path) as kernel:
        token = (await kernel.create_token("v", "viewer", by="test")).token
        transport = httpx.ASGITransport(app=create_app(kernel))
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api.test", headers=headers
        ) as client:
            listed = await client.get("/api/incidents", params={"status": "resolved"})
            assert listed.status_code == 200
            (incident,) = listed.json()
            one = await client.get(f"/api/incidents/{incident['id']}")
            assert one.status_code == 200 and one.json()["timeline"]
            assert one.json() | {"timeline": []} == incident
            assert incident["credits"][0]["why"].startswith("credited: ")
            assert (await client.get("/api/incidents/77")).status_code == 404
            assert (await client.get("/api/incidents?status=fixed")).status_code == 422
            assert (await client.get("/api/incidents?limit=0")).status_code == 422


async def test_the_ops_tab_marks_degraded_and_down_and_opens_an_incidents_detail(
    db_path: Path,
) -> None:
    from rich.text import Text
    from textual.widgets import DataTable, Static

    from storage.repositories.incidents import IncidentRepository
    from storage.tables import IncidentRow
    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.incident_detail import IncidentDetailDialog
    from widgets.targets_panel import TargetsPanel

    with ControlledService(healthy=False) as service:
        await _autopilot(db_path, service, duration_s=6.5)
    async with await Kernel.open(db_path) as kernel:  # one whose texts look like markup
        await IncidentRepository(kernel.database).add(
            IncidentRow(
                target="api",
                situation="slow",
                status="recovered",
                summary="[b]recovered[/b] by itself",
                health="degraded",
                opened_at=200.0,
                closed_at=201.0,
                evidence='[{"ts": 200, "health": "degraded", "detail": "[red]slow[/red]"}]',
            )
        )
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.kernel is not None
        bus = app.kernel.bus
        for target, health in (("api", "degraded"), ("shop", "down"), ("cdn", "up")):
            bus.publish(
                TargetChecked(
                    target=target,
                    healthy=health != "down",
                    latency_ms=9.0,
                    detail="",
                    health=health,
                )
            )
        for incident_id, target, health in ((1, "shop", "down"), (2, "api", "degraded")):
            bus.publish(
                IncidentChanged(
                    incident_id=incident_id,
                    target=target,
                    situation="slow" if health == "degraded" else "status=503",
                    status="resolved",
                    owner="ben",
                    steps=3,
                    summary="",
                    health=health,
                )
            )
        await pilot.press("o")
        await pilot.pause(0.4)  # one repaint per burst
        panel = app.query_one(TargetsPanel)
        targets = panel.query_one("#targets-table", DataTable)
        words = {name: targets.get_row(name)[1] for name in ("api", "shop", "cdn")}
        assert {n: str(w) for n, w in words.items()} == {
            "api": "degraded",
            "shop": "DOWN",
            "cdn": "up",
        }
        assert len({str(w.style) for w in words.values() if isinstance(w, Text)}) == 3
        incidents = panel.query_one("#incidents-table", DataTable)
        assert [str(incidents.get_row(k)[3]) for k in ("2", "1")] == ["degraded", "DOWN"]
        # Newest closed first; Enter on the second row (incident 1) opens its detail.
        incidents.focus()
        await pilot.press("down", "enter")
        for _ in range(20):
            await pilot.pause(0.05)
            if isinstance(app.screen, IncidentDetailDialog):
                break
        dialog = app.screen
        assert isinstance(dialog, IncidentDetailDialog) and dialog.detail.id == 1
        text = dialog.text
        assert "incident 1: shop status=503 (down), resolved" in text
        assert "confirmed by:" in text and "(got 503)" in text
        assert "fix-shop: fixed it, credit 1 (credited: failing check" in text
        lines = [str(s.render()) for s in dialog.query(".incident-line").results(Static)]
        assert any("credited: failing check" in line for line in lines)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, IncidentDetailDialog)
        # Markup in stored texts is shown as written, never interpreted.
        incidents.focus()
        await pilot.press("up", "enter")
        for _ in range(20):
            await pilot.pause(0.05)
            if isinstance(app.screen, IncidentDetailDialog):
                break
        dialog = app.screen
        assert isinstance(dialog, IncidentDetailDialog) and dialog.detail.id == 2
        lines = [str(s.render()) for s in dialog.query(".incident-line").results(Static)]
        assert any("[red]slow[/red]" in line for line in lines), lines
        assert any("[b]recovered[/b] by itself" in line for line in lines), lines
        await pilot.press("escape")
        await pilot.press("ctrl+q")


def test_each_credit_decision_says_why() -> None:
    from agent.core.credit import creditable, judged

    assert judged("restart", True, confirmed=True, basis="failing check 0.2 s before").why == (
        "credited: failing check 0.2 s before, verification passed"
    )
    miss = judged("restart", False, confirmed=True, basis="re-check 0.0 s before")
    assert (miss.credit, miss.why) == (0.0, "counted as a miss: re-check 0.0 s before, "
                                       "the fault was still there after it")  # fmt: skip
    none = judged("restart", True, confirmed=False)
    assert (none.credit, none.why) == (
        None,
        "no credit: the fault was not confirmed just before it",
    )
    assert creditable(True, True, None, True, True) == (
        False,
        "the fault was not confirmed just before it",
    )
    assert creditable(True, True, 5.0, False, True) == (
        False,
        "nothing verified its outcome after it",
    )
    assert creditable(True, True, 5.0, True, True) == (True, "")
    assert creditable(False, True, None, False, True)[0]  # a person's order: taught by result


async def test_a_trusted_procedures_replay_records_its_credit(db_path: Path) -> None:
    from agent.core.stimulus import Stimulus, StimulusKind
    from agent.skills.actions import ActionRequest

    with ControlledService(healthy=False) as service:
        async with await Kernel.open(db_path) as kernel:
            await _define(kernel, service, "low", 30.0)
            await kernel.create_agent("ben", "bold")
            replayed = None
            # Two incidents fixed by fix-shop make it a trusted procedure; the third replays it.
            for _ in range(3):
                service.healthy = False
                alert = Stimulus(
                    kind=StimulusKind.ALERT,
                    summary="shop: status=503",
                    target="shop",
                    situation="status=503",
                    severity=0.8,
                    evidence=0.9,
                    candidates=(
                        ActionRequest(action="fix-shop", target="shop", situation="status=503"),
                    ),
                    recheck=kernel.ops.check_request("shop"),
                    confirmed_at=kernel.clock(),
                )
                outcome = await kernel.stimulate("ben", alert)
                assert outcome.status == "succeeded"
                assert [c.action for c in outcome.credits] == [a for a, _ in outcome.tried]
                if outcome.procedure_id is not None:
                    replayed = outcome
                    break
    assert replayed is not None, "the trusted procedure did not run"
    (step,) = replayed.credits
    assert step.credit == 1.0 and step.fixed
    assert step.why.startswith("credited: trusted procedure, failing check ")
    assert step.why.endswith("s before, verification passed")
