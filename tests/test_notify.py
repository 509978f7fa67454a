"""Notifications through apprise: routes from the CLI, a real webhook receiver on 127.0.0.1, and
the demo world in virtual time sending what its incidents and approvals are."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from agent.clock import VirtualClock
from agent.core.kernel import Kernel, KernelConfig
from agent.core.notifier import MAX_ATTEMPTS, MAX_BACKOFF_S, backoff_s
from agent.events import KernelEvent
from tests.conftest import CliRunner
from tests.service import ControlledService
from tests.webhook import WebhookReceiver
from webops_tui.demo.runner import run_demo
from webops_tui.demo.world import TEST_SLOWNESS, DemoWorld

TOKEN = "s3cr3t-t0ken"


def test_routes_are_added_listed_and_removed_and_the_url_is_never_shown_whole(
    cli: CliRunner, db_path: Path
) -> None:
    url = f"json://user:{TOKEN}@127.0.0.1:9/hook/{TOKEN}"
    added = cli("notify", "add", "oncall", url, "--event", "incident_opened", "--target", "shop*",
                "--min-criticality", "high", "--remind-every", "30m", "--no-send-resolved",
                "--json")  # fmt: skip
    assert added.code == 0, added.err
    assert added.json()["url"] == "json://127.0.0.1:9/…"
    listed = cli("notify", "list", "--json")
    assert listed.code == 0
    [route] = listed.json()
    assert route == {
        "name": "oncall",
        "url": "json://127.0.0.1:9/…",
        "events": ["incident_opened"],
        "targets": ["shop*"],
        "min_criticality": "high",
        "remind_every": "30m",
        "send_resolved": False,
    }
    human = cli("notify", "list")
    assert "oncall" in human.out and TOKEN not in human.out + human.err
    # Sealed at rest: the token is nowhere in the database file (nor in the audit).
    assert TOKEN.encode() not in db_path.read_bytes()
    assert TOKEN not in cli("audit", "--json").out
    assert cli("notify", "remove", "oncall").code == 0
    assert cli("notify", "list", "--json").out.strip() in ("[]", "")
    again = cli("notify", "remove", "oncall")
    assert again.code == 2 and "no notification route" in again.err


def test_bad_routes_are_one_line_and_exit_2(cli: CliRunner) -> None:
    assert cli("notify", "add", "ok", "json://127.0.0.1:9/h").code == 0
    for args in (
        ("bad", "not a url"),
        ("bad", "nosuchscheme://host/x"),
        ("bad", "json://127.0.0.1:9/h", "--event", "everything"),
        ("bad", "json://127.0.0.1:9/h", "--remind-every", "soon"),
        ("bad", "json://127.0.0.1:9/h", "--min-criticality", "urgent"),
        ("9bad", "json://127.0.0.1:9/h"),
    ):
        result = cli("notify", "add", *args)
        assert result.code == 2, (args, result.out, result.err)
        assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert [r["name"] for r in cli("notify", "list", "--json").json()] == ["ok"]
    assert cli("run", "--notify", "nosuchscheme://x/y", "--duration", "1").code == 2
    assert cli("demo", "--headless", "--notify", "bogus", "--duration", "1").code == 2


def test_read_only_refuses_to_change_routes(cli: CliRunner) -> None:
    assert cli("notify", "add", "a", "json://127.0.0.1:9/h").code == 0
    refused = cli("--read-only", "notify", "add", "b", "json://127.0.0.1:9/h")
    assert refused.code == 2 and "read-only" in refused.err
    assert cli("--read-only", "notify", "remove", "a").code == 2
    assert [r["name"] for r in cli("--read-only", "notify", "list", "--json").json()] == ["a"]


def test_notify_test_sends_one_message_and_says_when_it_fails(cli: CliRunner) -> None:
    with WebhookReceiver() as receiver:
        receiver.answers["/down"] = [500]
        assert cli("notify", "add", "up", receiver.url("/up")).code == 0
        assert cli("notify", "add", "down", receiver.url("/down")).code == 0
        sent = cli("notify", "test", "up")
        assert sent.code == 0, sent.err
        assert receiver.titles("/up") == ["webops test notification (up)"]
        failed = cli("notify", "test", "down", "--json")
        assert failed.code == 1
        assert failed.json()["sent"] is False and "500" in failed.json()["error"]
    assert cli("agent", "create", "anna").code == 0
    status = cli("status")
    assert "notifications: 1 sent, 1 failed" in status.out, status.out


@given(st.integers(min_value=0, max_value=10_000))
def test_back_off_doubles_and_is_bounded(attempts: int) -> None:
    wait = backoff_s(attempts)
    assert 1.0 <= wait <= MAX_BACKOFF_S
    assert backoff_s(attempts + 1) >= wait


async def _demo_with_routes(db_path: Path, seconds: float) -> list[KernelEvent]:
    clock = VirtualClock()
    world = DemoWorld(7, clock=clock, slowness=TEST_SLOWNESS)
    seen: list[KernelEvent] = []
    try:
        config = KernelConfig(seed=7)
        async with await Kernel.open(db_path, config=config, clock=clock.time) as kernel:
            kernel.bus.subscribe(seen.append)
            await run_demo(
                kernel, world, seed=7, duration_s=seconds, approve="wait", stop=asyncio.Event()
            )
    finally:
        world.stop()
    return seen


def test_the_demo_world_notifies_a_real_webhook_of_incidents_and_approvals(
    cli: CliRunner, db_path: Path
) -> None:
    """The issue's Done-when: a json:// URL on 127.0.0.1 receives "incident opened", "resolved"
    and "approval requested" for faults in the demo world; filters drop what they should, and a
    receiver that fails at first gets the notice on a retry."""
    with WebhookReceiver() as receiver:
        receiver.answers["/flaky"] = [500, 500]
        routes = {
            "all": (),
            "resolved": ("--event", "incident_resolved"),
            "shop": ("--target", "shop"),
            "high": ("--min-criticality", "high"),
            "quiet": ("--no-send-resolved",),
            "flaky": ("--event", "incident_opened"),
            "remind": ("--event", "incident_opened", "--remind-every", "0.5"),
        }
        for name, options in routes.items():
            assert cli("notify", "add", name, receiver.url(f"/{name}"), *options).code == 0
        seen = asyncio.run(_demo_with_routes(db_path, 20.0))
        everything = receiver.titles("/all")
        assert any(" opened: " in t for t in everything), everything
        assert any(t.endswith((" resolved", " recovered")) for t in everything), everything
        assert any(t.startswith("approval ") and " requested: " in t for t in everything)
        # Each incident is announced open once, then closed once, in that order.
        for incident_id in {t.split()[1] for t in everything if t.startswith("incident ")}:
            told = [
                t.split(" on ")[1].split()[1]
                for t in everything
                if t.startswith(f"incident {incident_id} on ")
            ]
            told = [word.rstrip(":") for word in told if word.rstrip(":") != "still"]
            assert told in (["opened"], ["opened", told[-1]]), (incident_id, told)
        resolved_only = receiver.titles("/resolved")
        assert resolved_only and all(t.endswith((" resolved", " recovered")) for t in resolved_only)
        about_shop = receiver.titles("/shop")
        incidents = [t for t in everything if t.startswith("incident ")]
        shop_incidents = [t for t in incidents if " on shop " in t]
        assert [t for t in about_shop if t.startswith("incident ")] == shop_incidents
        assert len(shop_incidents) < len(incidents)
        high = [t for t in receiver.titles("/high") if t.startswith("incident ")]
        assert high and not any(" on search " in t or " on cdn " in t for t in high)
        assert any(" on search " in t or " on cdn " in t for t in incidents)
        quiet = receiver.titles("/quiet")
        assert quiet and not any(t.endswith((" resolved", " recovered")) for t in quiet)
        # The flaky receiver answered 500 twice, then got every "opened" on a retry.
        flaky = [status for path, status in receiver.attempts if path == "/flaky"]
        assert flaky[:2] == [500, 500] and 200 in flaky
        # (a retried notice arrives after those sent meanwhile)
        assert sorted(receiver.titles("/flaky")) == sorted(
            t for t in everything if " opened: " in t
        )
        # Reminders while an incident stays open (nobody acknowledges in the demo).
        reminders = [t for t in receiver.titles("/remind") if t.endswith(" still open")]
        assert reminders, receiver.titles("/remind")
    kinds = {e.kind for e in seen}
    assert {"notification_sent", "notification_failed"} <= kinds
    # Every delivery is in the outbox, readable by another process.
    with sqlite3.connect(db_path) as conn:
        rows = dict(conn.execute("SELECT status, count(*) FROM notification GROUP BY status"))
        retried = conn.execute("SELECT max(attempts) FROM notification WHERE route = 'flaky'")
        assert 1 < retried.fetchone()[0] <= MAX_ATTEMPTS
    assert rows.get("sent", 0) > 0 and rows.get("pending", 0) == 0
    status = cli("status")
    assert f"notifications: {rows['sent']} sent" in status.out
    assert "2 failed attempts" in status.out and "last failure" in status.out, status.out


def test_what_could_not_be_sent_before_a_restart_is_sent_after_it(
    cli: CliRunner, db_path: Path
) -> None:
    with WebhookReceiver() as receiver:
        receiver.down = True
        assert cli("notify", "add", "hook", receiver.url("/hook")).code == 0
        asyncio.run(_demo_with_routes(db_path, 3.0))
        with sqlite3.connect(db_path) as conn:
            pending = conn.execute("SELECT id FROM notification WHERE status = 'pending'")
            left = {row[0] for row in pending}
        assert left and not receiver.titles("/hook")
        assert "pending" in cli("status").out
        receiver.down = False
        asyncio.run(_demo_with_routes(db_path, 10.0))
        with sqlite3.connect(db_path) as conn:
            sent = conn.execute("SELECT id FROM notification WHERE status = 'sent'")
            assert left <= {row[0] for row in sent}


def test_a_key_rotation_keeps_the_routes_readable(cli: CliRunner) -> None:
    with WebhookReceiver() as receiver:
        assert cli("notify", "add", "hook", receiver.url("/hook")).code == 0
        rotated = cli("secrets", "rotate-key")
        assert rotated.code == 0, rotated.err
        assert [r["name"] for r in cli("notify", "list", "--json").json()] == ["hook"]
        assert cli("notify", "test", "hook").code == 0
        assert receiver.titles("/hook") == ["webops test notification (hook)"]


def test_webops_run_notify_reports_an_agent_stuck_on_a_hanging_remedy(cli: CliRunner) -> None:
    """`run --notify URL` (this run only): the only remedy hangs until its timeout kills it,
    which is what "an agent stuck" means; the route is not stored."""
    with ControlledService(healthy=False) as service, WebhookReceiver() as receiver:
        assert cli("agent", "create", "ben", "--preset", "bold").code == 0
        assert cli("target", "add", "shop", "--address", f"{service.url}/health",
                   "--interval", "0.2", "--timeout", "1").code == 0  # fmt: skip
        assert cli("runbook", "add", "hang", "--command", "sleep 30", "--timeout", "0.3",
                   "--risk", "low", "--verify", "shop").code == 0  # fmt: skip
        result = cli("run", "--notify", receiver.url("/run"), "--duration", "6", "--quiet")
        assert result.code == 0, result.err
        titles = receiver.titles("/run")
    assert any(" opened: " in t for t in titles), titles
    assert any(t.startswith("ben stuck: hang timed out") for t in titles), titles
    assert cli("notify", "list", "--json").out.strip() in ("[]", "")
