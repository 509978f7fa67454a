"""Where notifications meet the rest: a person's ack (from another process) stops reminders and
their resolve sends "resolved"; an incident open from a previous run is not announced again;
the outbox is pruned; a failed dry run is named in the close and in the postmortem.

Real parts: `webops run` in its own process, the CLI entry point, a real webhook receiver and
a real failing service on 127.0.0.1, a real SQLite file; the autopilot in virtual time for the
dry runs (as tests/test_dry_runs.py).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliRunner
from tests.service import ControlledService
from tests.test_dry_runs import _autopilot, _http_runbook, _toml
from tests.test_dry_runs import _define as _define_dry
from tests.webhook import WebhookReceiver

WEBOPS = Path(sys.executable).with_name("webops")
#: How long a test waits for what it checks (a loaded CI machine is slow).
PATIENCE_S = 40.0
#: The reminder span of the routes below, in seconds.
REMIND_S = 0.5


def _until(check: Callable[[], bool], what: str, limit_s: float = PATIENCE_S) -> None:
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def _shop(cli: CliRunner, service: ControlledService) -> None:
    """Ben watches `shop`; its only remedy is high risk, so with approvals left to people
    (`--approve human`, run's default) the incident waits, open, for a person."""
    assert cli("agent", "create", "ben", "--preset", "bold").code == 0
    assert cli("target", "add", "shop", "--address", f"{service.url}/health", "--interval",
               "0.2", "--timeout", "1", "--criticality", "high").code == 0  # fmt: skip
    fix = f"import urllib.request as u; u.urlopen(u.Request('{service.url}/fix', method='POST'))"
    assert cli("runbook", "add", "fix-shop", "--command", f"{sys.executable} -c \"{fix}\"",
               "--risk", "high", "--verify", "shop").code == 0  # fmt: skip


def _reminders(receiver: WebhookReceiver, path: str) -> list[str]:
    return [t for t in receiver.titles(path) if t.endswith(" still open")]


def test_an_ack_from_another_process_stops_reminders_and_its_resolve_is_sent(
    cli: CliRunner, db_path: Path
) -> None:
    with ControlledService(healthy=False) as service, WebhookReceiver() as receiver:
        _shop(cli, service)
        every = str(REMIND_S)
        added = cli("notify", "add", "hook", receiver.url("/hook"), "--remind-every", every)
        assert added.code == 0, added.err
        run = subprocess.Popen(
            [WEBOPS, "--db", str(db_path), "run", "--duration", "120", "--quiet"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _until(lambda: len(_reminders(receiver, "/hook")) >= 2, "two reminders")
            (incident,) = cli("incident", "list", "--json").json()
            assert incident["status"] == "awaiting_approval"
            acked = cli("incident", "ack", str(incident["id"]))
            assert acked.code == 0, acked.err
            at_ack = len(_reminders(receiver, "/hook"))
            # Watch eight reminder periods pass: at most the one already on its way arrives.
            watched = time.monotonic() + 8 * REMIND_S
            _until(lambda: time.monotonic() > watched, "the periods passed")
            after = len(_reminders(receiver, "/hook"))
            assert after <= at_ack + 1, receiver.titles("/hook")
            resolved = cli("incident", "resolve", str(incident["id"]), "--note", "by hand")
            assert resolved.code == 0, resolved.err
            done = f"incident {incident['id']} on shop resolved"
            _until(lambda: done in receiver.titles("/hook"), "resolved sent")
            assert len(_reminders(receiver, "/hook")) == after
        finally:
            run.terminate()
            _, err = run.communicate(timeout=PATIENCE_S)
        titles = receiver.titles("/hook")
        assert sum(" opened: " in t for t in titles) == 1, titles
        assert titles.count(done) == 1, titles
        assert service.fixes == 0
    assert b"Traceback" not in err, err.decode()


def test_an_incident_open_from_a_previous_run_is_not_announced_again(
    cli: CliRunner, db_path: Path
) -> None:
    """Between runs a person approves the remedy the incident waits for, which runs and does
    not fix it, so the next run takes the incident up again (open, and on); it was announced as
    opened once, by the first run."""
    with ControlledService(healthy=False) as service, WebhookReceiver() as receiver:
        service.fix_works = False
        _shop(cli, service)
        assert cli("notify", "add", "hook", receiver.url("/hook")).code == 0

        def run_after_an_approval() -> None:
            for pending in cli("approvals", "--json").json():
                done = cli("approvals", "--approve", str(pending["id"]))  # runs, fails
                assert done.out.startswith(f"approval {pending['id']} failed"), done.out
            ran = cli("run", "--duration", "4", "--quiet")
            assert ran.code == 0, ran.err

        run_after_an_approval()
        assert [t for t in receiver.titles("/hook") if " opened: " in t] == [
            "incident 1 on shop opened: status=503"
        ]
        run_after_an_approval()  # incident 1 goes on (open, then given up), incident 2 opens
        titles = receiver.titles("/hook")
        assert "incident 1 on shop escalated: the team gave up" in titles  # it changed
        assert sum(t.startswith("incident 1 on shop opened") for t in titles) == 1, titles
        # A route added later still hears of an incident when it next changes (it was told
        # nothing of it), and only once.
        assert cli("notify", "add", "late", receiver.url("/late")).code == 0
        waiting = cli("incident", "list", "--json", "--status", "awaiting_approval").json()
        assert waiting
        run_after_an_approval()
        for incident in waiting:
            opened = f"incident {incident['id']} on shop opened"
            assert sum(t.startswith(opened) for t in receiver.titles("/late")) == 1
            assert sum(t.startswith(opened) for t in receiver.titles("/hook")) == 1


def _config(tmp_path: Path, retention: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f"[retention]\n{retention}\n")
    return config


def _count(db_path: Path, query: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute(query).fetchone()[0])


def test_prune_drops_delivered_notifications_and_closed_incidents_journal_never_pending(
    cli: CliRunner, db_path: Path, tmp_path: Path
) -> None:
    with ControlledService(healthy=False) as service, WebhookReceiver() as receiver:
        _shop(cli, service)
        assert cli("notify", "add", "hook", receiver.url("/hook")).code == 0
        assert cli("notify", "add", "down", receiver.url("/down")).code == 0
        receiver.answers["/down"] = [500] * 1000  # it never takes one: stays pending
        assert cli("run", "--duration", "3", "--quiet").code == 0
        assert cli("notify", "test", "hook").code == 0
    (incident,) = cli("incident", "list", "--json").json()
    number = str(incident["id"])
    assert cli("incident", "note", number, "looked at it").code == 0
    assert cli("incident", "resolve", number, "--note", "by hand").code == 0
    sent = "SELECT count(*) FROM notification WHERE status = 'sent'"
    pending = "SELECT count(*) FROM notification WHERE status = 'pending'"
    journal = f"SELECT count(*) FROM incident_event WHERE incident_id = {number}"
    assert _count(db_path, sent) >= 2 and _count(db_path, pending) >= 1
    assert _count(db_path, journal) >= 2
    # The default policy keeps a month of notifications: nothing this young goes.
    kept = cli("--config", str(tmp_path / "none.toml"), "prune", "--json").json()
    assert kept["policy_days"] == {"notifications": 30.0} and kept["counts"]["notifications"] == 0
    said = cli("--config", str(tmp_path / "none.toml"), "prune")
    assert "everything is kept but notifications, 30 days" in said.out, said.out
    # A policy of about a second: once a second has passed, delivered ones go, pending stay.
    config = _config(tmp_path, "notifications = 0.00001\nincidents = 0.00001")

    def counted() -> bool:
        dry = cli("--config", str(config), "prune", "--dry-run", "--json").json()
        return bool(dry["counts"]["notifications"] >= 2 and dry["counts"]["incidents"] == 1)

    _until(counted, "the rows aged past the policy")
    pending_before = _count(db_path, pending)
    done = cli("--config", str(config), "prune")
    assert done.code == 0, done.err
    assert "notifications: removed " in done.out and "incidents: removed 1 " in done.out
    assert _count(db_path, sent) == 0 and _count(db_path, pending) == pending_before
    assert _count(db_path, journal) == 0
    assert cli("incident", "list", "--json").json() == []
    assert "pending" in cli("status").out


def test_a_failed_dry_run_is_named_in_the_close_and_the_postmortem(
    tmp_path: Path, db_path: Path, cli: CliRunner
) -> None:
    """The dry run keeps failing (HTTP 409), so the real remedy never runs and the team gives
    up: the close says why, and the report's timeline and "tried" list show the dry runs."""
    import asyncio

    with ControlledService(healthy=False) as service:
        service.dry_run_works = False
        _define_dry(cli, _toml(tmp_path, service, _http_runbook(service)))
        asyncio.run(_autopilot(db_path, 60.0))
        assert service.fixes == 0
    gave_up = cli("incident", "list", "--json", "--status", "failed").json()
    assert gave_up, cli("incident", "list").out
    incident = gave_up[-1]  # the first (a new one opens after it, the target still failing)
    assert (
        "gave up after 4 attempts: the dry run of fix-shop failed: HTTP 409"
        in (incident["summary"])
    )
    report = cli("incident", "report", str(incident["id"]))
    assert report.code == 0, report.err
    timeline = report.out.split("## Timeline")[1].split("## ")[0]
    dry = [line for line in timeline.splitlines() if " dry_run: " in line]
    assert dry and "dry run of fix-shop: failed (HTTP 409); fix-shop did not run" in dry[0]
    tried = report.out.split("## What the agents tried")[1].split("## ")[0]
    assert "dry run of fix-shop: failed (HTTP 409)" in tried
    assert "What fixed it: nothing: the agents gave up after 4 attempts: the dry run" in tried
    as_json = cli("incident", "report", str(incident["id"]), "--format", "json").json()
    assert as_json["dry_runs"] and all(s["kind"] == "dry_run" for s in as_json["dry_runs"])
    assert json.dumps(as_json).count("HTTP 409") >= 2
