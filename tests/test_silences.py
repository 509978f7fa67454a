"""Silences and maintenance windows, reached as users reach them: `webops silence` and
`webops maintenance` on a real SQLite file, the autopilot in virtual time against a real HTTP
service on 127.0.0.1, the REST API, and the workbench's Ops panel."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from agent.clock import VirtualClock
from agent.core.autopilot import Autopilot
from agent.core.kernel import Kernel
from agent.errors import InvalidInput
from agent.ops.durations import parse_duration
from agent.ops.maintenance import MaintenanceWindowSpec, check_cron
from tests.conftest import CliRunner
from tests.service import ControlledService
from webops_tui.api.app import create_app


def _define(cli: CliRunner, service: ControlledService) -> None:
    """An agent, a target `shop` on the service (checked every second, two failing checks
    confirm a fault) and `fix-shop`, a low-risk remedy over HTTP."""
    assert cli("agent", "create", "anna").code == 0
    added = cli(
        "target",
        "add",
        "shop",
        "--address",
        f"{service.url}/health",
        "-c",
        "status == 200",
        "--interval",
        "1",
        "--timeout",
        "1",
    )
    assert added.code == 0, added.err
    fix = cli(
        "runbook",
        "add",
        "fix-shop",
        "--http",
        "POST",
        f"{service.url}/fix",
        "--risk",
        "low",
        "--verify",
        "shop",
    )
    assert fix.code == 0, fix.err


def _run(db_path: Path, seconds: float, clock: VirtualClock) -> tuple[Autopilot, list[str]]:
    lines: list[str] = []

    async def go() -> Autopilot:
        async with await Kernel.open(db_path, clock=clock.time) as kernel:
            autopilot = Autopilot(kernel, on_event=lines.append, clock=clock)
            await autopilot.run(asyncio.Event(), duration_s=seconds)
            return autopilot

    return asyncio.run(go()), lines


def _samples(db_path: Path, before: float) -> int:
    conn = sqlite3.connect(db_path)
    try:
        query = "SELECT count(*) FROM check_sample WHERE target = 'shop' AND ts < ?"
        return int(conn.execute(query, (before,)).fetchone()[0])
    finally:
        conn.close()


def test_a_silenced_crash_opens_nothing_runs_nothing_and_opens_once_the_silence_ends(
    cli: CliRunner, db_path: Path
) -> None:
    with ControlledService(healthy=False) as service:
        _define(cli, service)
        said = cli("silence", "shop", "--for", "20s", "--reason", "deploy [/b]", "--json")
        assert said.code == 0, said.err
        ends_at = json.loads(said.out)["ends_at"]
        autopilot, lines = _run(db_path, 45.0, VirtualClock())
    (incident,) = autopilot.closed
    # Opened only after the silence ended, then fixed by the remedy as usual.
    assert incident.opened_at >= ends_at
    assert incident.status == "resolved" and incident.actions == [("fix-shop", True)]
    assert service.fixes == 1
    # Checks went on during the silence and were recorded (the sparkline's history).
    assert _samples(db_path, ends_at) >= 10
    held = [line for line in lines if "maintenance until" in line]
    assert len(held) == 1 and "deploy [/b]" in held[0] and "the incident waits" in held[0]


def test_an_incident_open_when_a_silence_starts_gets_no_remedy_until_it_ends(
    cli: CliRunner, db_path: Path
) -> None:
    """A fix that never works keeps the incident open; once silenced, no remedy runs."""
    with ControlledService(healthy=False) as service:
        service.fix_works = False
        _define(cli, service)
        clock = VirtualClock()
        _run(db_path, 4.0, clock)  # the incident opens and the owner tries the fix
        tried = service.fixes
        assert tried >= 1
        assert cli("silence", "*", "--for", "1d", "--reason", "db upgrade").code == 0
        _autopilot, lines = _run(db_path, 20.0, VirtualClock(start=clock.time()))
        assert service.fixes == tried
        assert any("its remedy waits" in line for line in lines)
        listed = json.loads(cli("incidents", "--json").out)
        assert [i["status"] for i in listed] == ["open"]


@pytest.mark.parametrize(("cron", "held"), [("0 2 * * *", True), ("0 3 * * *", False)])
def test_a_window_covering_the_kernels_now_silences_and_one_that_does_not_does_not(
    cli: CliRunner, db_path: Path, cron: str, held: bool
) -> None:
    two_am = datetime(2026, 12, 2, 2, 0, 5, tzinfo=UTC).timestamp()
    with ControlledService(healthy=False) as service:
        _define(cli, service)
        added = cli(
            "maintenance",
            "add",
            "nightly",
            "--cron",
            cron,
            "--duration",
            "30s",
            "--target",
            "sh*",
            "--reason",
            "backups",
        )
        assert added.code == 0, added.err
        autopilot, lines = _run(db_path, 40.0, VirtualClock(start=two_am))
    opened = [i.opened_at for i in autopilot.closed] + [
        i.row.opened_at for i in autopilot.open.values()
    ]
    assert opened
    window_end = datetime(2026, 12, 2, 2, 0, 30, tzinfo=UTC).timestamp()
    if held:
        assert min(opened) >= window_end
        assert any("backups" in line for line in lines)
    else:
        assert min(opened) < two_am + 10
        assert not any("maintenance until" in line for line in lines)


def test_silence_list_and_remove_with_a_target_named_list(cli: CliRunner, db_path: Path) -> None:
    assert cli("target", "add", "db", "--kind", "tcp", "--address", "127.0.0.1:9").code == 0
    assert cli("silence", "db", "--for", "2h", "--reason", "upgrade [b]x").code == 0
    named_list = cli("silence", "--", "list", "--for", "1h")
    assert named_list.code == 0 and "silenced list" in named_list.out
    # A window twelve hours from now, so it is not on while the test runs (at 02:xx UTC a
    # "0 2 * * *" window was, and sorted first).
    off_hour = (datetime.now(UTC).hour + 12) % 24
    assert (
        cli(
            "maintenance",
            "add",
            "nightly",
            "--cron",
            f"0 {off_hour} * * *",
            "--duration",
            "1h",
            "--target",
            "db",
        ).code
        == 0
    )
    listed = json.loads(cli("silence", "list", "--json").out)
    assert [(e["kind"], e["targets"]) for e in listed][:2] == [
        ("silence", ["db"]),
        ("silence", ["list"]),
    ]
    assert {e["id"] for e in listed} == {"1", "2", "nightly"}
    assert all(e["on"] for e in listed if e["kind"] == "silence")
    human = cli("silence", "list")
    assert "upgrade [b]x" in human.out and "nightly" in human.out
    shown = json.loads(cli("target", "list", "--json").out)[0]
    assert shown["silence_reason"] == "upgrade [b]x" and shown["silenced_until"]
    assert "target db: maintenance until" in cli("status").out
    assert cli("silence", "remove", "1").code == 0
    assert json.loads(cli("target", "list", "--json").out)[0]["silenced_until"] is None
    assert "maintenance" not in cli("status").out
    gone = cli("silence", "remove", "1")
    assert gone.code == 2 and gone.err.count("\n") == 1 and "no silence '1'" in gone.err
    assert "webops silence TARGET --for 2h" in cli("silence", "--help").out
    assert cli("maintenance", "remove", "nightly").code == 0
    assert [e["id"] for e in json.loads(cli("silence", "list", "--json").out)] == ["2"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["silence", "db", "--for", "soon"], "--for must be a span of time"),
        (["silence", "db", "--for", "0s"], "--for must be longer than 0"),
        (
            ["maintenance", "add", "w", "--cron", "0 2 * *", "--duration", "1h", "--target", "db"],
            "cron '0 2 * *'",
        ),
        (
            ["maintenance", "add", "w", "--cron", "0 0 31 2 *", "--duration", "1h", "-t", "db"],
            "cron '0 0 31 2 *'",
        ),
        (
            ["maintenance", "add", "w", "--cron", "0 2 * * *", "--duration", "1y", "-t", "db"],
            "duration must be a span of time",
        ),
        (["--read-only", "silence", "db", "--for", "1h"], "read-only"),
    ],
)
def test_bad_silences_are_one_line_and_exit_2_storing_nothing(
    cli: CliRunner, db_path: Path, args: list[str], says: str
) -> None:
    assert cli("target", "add", "db", "--kind", "tcp", "--address", "127.0.0.1:9").code == 0
    result = cli(*args)
    assert result.code == 2, result
    assert says in result.err and result.err.count("\n") == 1 and "Traceback" not in result.err
    assert json.loads(cli("silence", "list", "--json").out) == []


@given(st.text(max_size=40))
def test_any_cron_either_parses_or_is_one_named_error(text: str) -> None:
    try:
        check_cron(text)
    except InvalidInput as exc:
        assert exc.message.startswith("cron ") and "\n" not in exc.message
    else:
        MaintenanceWindowSpec(name="w", targets=["*"], cron=text, duration="1h")


@given(st.one_of(st.text(max_size=20), st.floats(), st.integers()))
def test_any_duration_either_parses_or_is_one_named_error(value: str | float) -> None:
    try:
        seconds = parse_duration(value)
    except InvalidInput as exc:
        assert exc.message.startswith("duration ") and "\n" not in exc.message
        with pytest.raises(ValidationError, match="duration"):
            MaintenanceWindowSpec(name="w", targets=["*"], cron="0 2 * * *", duration=value)
    else:
        assert seconds >= 0


async def test_the_api_lists_adds_and_removes_silences(db_path: Path) -> None:
    async with await Kernel.open(db_path) as kernel:
        tokens = {
            r: (await kernel.create_token(r, r, by="test")).token for r in ("viewer", "operator")
        }
        app = create_app(kernel)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test"
        ) as client:

            def auth(role: str) -> dict[str, str]:
                return {"Authorization": f"Bearer {tokens[role]}"}

            body = {"target": "db-*", "for": "2h", "reason": "move"}
            refused = await client.post("/api/silences", json=body, headers=auth("viewer"))
            assert refused.status_code == 403
            made = await client.post("/api/silences", json=body, headers=auth("operator"))
            assert made.status_code == 201 and made.json()["targets"] == ["db-*"]
            bad = await client.post(
                "/api/silences", json=body | {"for": "forever"}, headers=auth("operator")
            )
            assert bad.status_code == 422 and "for" in bad.json()["error"]
            control = await client.post(
                "/api/silences", json=body | {"target": "a\x1bb"}, headers=auth("operator")
            )
            assert 400 <= control.status_code < 500 and "target" in control.json()["error"]
            listed = (await client.get("/api/silences", headers=auth("viewer"))).json()
            assert [(e["id"], e["reason"]) for e in listed] == [(made.json()["id"], "move")]
            gone = await client.delete(
                f"/api/silences/{made.json()['id']}", headers=auth("operator")
            )
            assert gone.status_code == 200
            assert (await client.get("/api/silences", headers=auth("viewer"))).json() == []
            assert (
                await client.delete("/api/silences/7", headers=auth("operator"))
            ).status_code == 404


async def test_the_ops_panel_shows_maintenance_with_the_reason_and_end(
    db_path: Path,
) -> None:
    from textual.widgets import DataTable

    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.targets_panel import TargetsPanel

    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("ben", "bold")
        from agent.ops.targets import target_spec

        await kernel.ops.add_target(target_spec(name="db", kind="tcp", address="127.0.0.1:9"))
        await kernel.silences.silence("db", 7200, "upgrade [/b]")
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("o")
        table = app.query_one(TargetsPanel).query_one("#targets-table", DataTable)
        for _ in range(400):
            await pilot.pause(0.1)
            if table.row_count and str(table.get_cell("db", "status")) == "maintenance":
                break
        assert str(table.get_cell("db", "status")) == "maintenance"
        now = str(table.get_cell("db", "now"))
        assert now.startswith("until ") and "upgrade [/b]" in now
