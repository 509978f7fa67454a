"""Workers sharing targets (`webops run --worker`): real `webops run` subprocesses on one SQLite
file, real services on 127.0.0.1, the real CLI for setup and approvals.

What is checked is what the workers stored: who made each check (`check_sample.worker`), the
incidents, the approvals, and the requests the service received. Leases are short (2 s) and
intervals half a second, so that hand-overs happen within a test.
"""

from __future__ import annotations

import json
import math
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from agent.core.check_schedule import phase
from storage import migrations
from tests.conftest import CliRunner
from tests.raw_sql import raw
from tests.service import ControlledService

pytestmark = pytest.mark.both_backends

WEBOPS = Path(sys.executable).with_name("webops")
LEASE_S = 2.0
INTERVAL_S = 0.5

T = TypeVar("T")


def _until(check: Callable[[], T], seconds: float = 40) -> T:
    """Poll `check()` until it returns something true or `seconds` pass; return what it said."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    return check()


@contextmanager
def _worker(db_path: Path, name: str, log: Path, *extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """`webops run --worker NAME` in its own process, stopped (SIGTERM) at the end if alive."""
    with log.open("w") as err:
        process = subprocess.Popen(
            [str(WEBOPS), "--db", str(db_path), "run", "--worker", name, "--lease", str(LEASE_S),
             "--duration", "120", "--json", *extra],
            stdout=subprocess.PIPE, stderr=err,
        )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.communicate(timeout=40)


def _rows(db_path: Path, query: str, *args: object) -> list[tuple[object, ...]]:
    return raw(db_path, query, *args)


def _checks(db_path: Path, *, started: bool = False) -> list[tuple[str, float, str]]:
    """Every stored check as (target, when it ended, or `started`, worker)."""
    rows = _rows(
        db_path, "SELECT target, ts, COALESCE(latency_ms, 0), worker FROM check_sample ORDER BY ts"
    )
    return [
        (str(t), float(str(ts)) - (float(str(ms)) / 1000 if started else 0), str(w))
        for t, ts, ms, w in rows
    ]


def _add_targets(cli: CliRunner, service: ControlledService, names: list[str]) -> None:
    assert cli("agent", "create", "anna").code == 0
    for name in names:
        added = cli(
            "target", "add", name, "--address", f"{service.url}/health?{name}",
            "--interval", str(INTERVAL_S), "--failure-threshold", "2", "--retry-interval", "0.5",
        )  # fmt: skip
        assert added.code == 0, added.err


def test_two_workers_share_the_targets_and_a_killed_one_hands_them_over(
    db_path: Path, cli: CliRunner, service: ControlledService, tmp_path: Path
) -> None:
    names = [f"site{i}" for i in range(6)]
    _add_targets(cli, service, names)
    with (
        _worker(db_path, "north", tmp_path / "north.err") as north,
        _worker(db_path, "south", tmp_path / "south.err"),
    ):

        def shared() -> dict[str, int] | None:
            listed = cli("workers", "--json")
            held = {w["name"]: w["targets"] for w in listed.json()["workers"] if w["live"]}
            return held if held == {"north": 3, "south": 3} else None

        assert _until(shared), cli("workers").out
        balanced = time.time()
        twin = cli("run", "--worker", "north", "--duration", "1")
        assert twin.code == 2 and "worker 'north' is already running" in twin.err, twin.err
        assert len(twin.err.strip().splitlines()) == 1, twin.err

        def each_checked_by_its_worker() -> dict[str, set[str]] | None:
            by: dict[str, set[str]] = {}
            for target, ts, worker in _checks(db_path):
                if ts > balanced + LEASE_S:
                    by.setdefault(target, set()).add(worker)
            return by if set(by) == set(names) else None

        owners = _until(each_checked_by_its_worker)
        assert owners and all(len(w) == 1 for w in owners.values()), owners
        # Each target's checks fall in the slots of its phase whichever worker makes them,
        # and no slot is checked twice, by the same or another worker (the hand-overs while
        # they balanced included): a check starts at its slot, a little late under load.
        slots = Counter(
            (target, math.floor((started - phase(target, INTERVAL_S)) / INTERVAL_S))
            for target, started, _ in _checks(db_path, started=True)
        )
        assert slots and max(slots.values()) == 1, [k for k, n in slots.items() if n > 1]

        # SIGKILL: no clean stop, no release; the leases expire and the other takes them.
        north_targets = {t for t, w in owners.items() if w == {"north"}}
        assert len(north_targets) == 3
        north.send_signal(signal.SIGKILL)
        north.wait(timeout=10)
        killed = time.time()

        def taken_over() -> dict[str, float] | None:
            first: dict[str, float] = {}
            for target, ts, worker in _checks(db_path):
                if worker == "south" and ts > killed and target in north_targets:
                    first.setdefault(target, ts)
            return first if set(first) == north_targets else None

        first = _until(taken_over)
        assert first, _checks(db_path)[-20:]
        takeover_s = max(first.values()) - killed
        if sys.__stderr__ is not None:  # past the `cli` fixture's capture: a figure to report
            sys.__stderr__.write(f"\nfleet.takeover_s = {takeover_s:.2f} (lease {LEASE_S:g} s)\n")
        assert takeover_s <= 2 * LEASE_S, takeover_s
        listed = cli("workers", "--json").json()["workers"]
        assert {w["name"]: w["live"] for w in listed} == {"north": False, "south": True}


def test_one_incident_per_fault_across_workers_and_an_approved_remedy_runs_once(
    db_path: Path, cli: CliRunner, service: ControlledService, tmp_path: Path
) -> None:
    names = ["shop", "blog", "docs", "wiki"]
    _add_targets(cli, service, names)
    added = cli(
        "runbook", "add", "fix-it", "--http", "POST", f"{service.url}/fix", "--risk", "high",
        "--timeout", "5", "--verify", "shop",
    )  # fmt: skip
    assert added.code == 0, added.err
    with (
        _worker(db_path, "north", tmp_path / "north.err") as north,
        _worker(db_path, "south", tmp_path / "south.err") as south,
    ):
        assert _until(lambda: len({w for _, _, w in _checks(db_path)} - {""}) == 2)

        def balanced() -> bool:  # the fault comes once they share the targets 2/2
            listed = cli("workers", "--json").json()["workers"]
            return sorted(w["targets"] for w in listed if w["live"]) == [2, 2]

        assert _until(balanced), cli("workers").out
        service.healthy = False  # every target is down: each worker opens its own

        def pending() -> list[dict[str, object]] | None:
            found = cli("approvals", "--json").json()
            asked = found if isinstance(found, list) else found.get("approvals", [])
            return [a for a in asked if a["target"] == "shop"] or None

        asked = _until(pending)
        assert asked and len(asked) == 1, asked
        opened = _rows(
            db_path,
            "SELECT target, COUNT(*) FROM incident WHERE status IN ('open', 'awaiting_approval') "
            "GROUP BY target",
        )
        assert all(n == 1 for _, n in opened), opened
        # A third process decides it: the remedy runs there, once.
        approved = subprocess.run(
            [str(WEBOPS), "--db", str(db_path), "approvals", "--approve", str(asked[0]["id"])],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert approved.returncode == 0, approved.stderr
        assert service.fixes == 1 and service.healthy

        def closed() -> list[tuple[object, ...]] | None:
            rows = _rows(db_path, "SELECT status FROM incident WHERE target = 'shop'")
            still = [s for (s,) in rows if s in ("open", "awaiting_approval")]
            return rows if rows and not still else None

        assert _until(closed) == [("resolved",)], (
            _rows(db_path, "SELECT id, status, decided_by FROM approval"),
            _rows(db_path, "SELECT kind, actor, text FROM incident_event"),
        )
        assert _until(lambda: _rows(
            db_path, "SELECT COUNT(*) FROM incident WHERE status IN ('open', 'awaiting_approval')"
        ) == [(0,)] or None)  # fmt: skip
        assert service.fixes == 1
        for process in (north, south):
            process.send_signal(signal.SIGTERM)
        summaries = [json.loads(p.communicate(timeout=40)[0]) for p in (north, south)]
        assert {s["worker"] for s in summaries} == {"north", "south"}
        # What each held when it stopped: the one stopped last may have taken the first one's.
        assert all(1 <= s["targets_held"] <= len(names) for s in summaries), summaries
    assert service.fixes == 1
    audit = cli("audit", "--json").json()
    events = audit if isinstance(audit, list) else audit.get("entries", [])
    ran = [e for e in events if e.get("action") == "fix-it" and e.get("event") == "approved"]
    assert len(ran) == 1, ran


@pytest.mark.sqlite_only  # an old file (schema 15) made with sqlite3
def test_an_old_file_with_two_open_incidents_on_one_target_opens_with_the_newest_open(
    db_path: Path, cli: CliRunner
) -> None:
    conn = sqlite3.connect(db_path)
    for migration in migrations.MIGRATIONS:
        if migration.version <= 15:
            for statement in migration.statements:
                conn.execute(statement)
    for opened in (100, 200):
        conn.execute(
            "INSERT INTO incident (target, situation, status, summary, opened_at) "
            "VALUES ('shop', 'down', 'open', 'failing', ?)",
            (opened,),
        )
    conn.execute("PRAGMA user_version = 15")
    conn.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID}")
    conn.commit()
    conn.close()
    listed = cli("incidents", "--json")
    assert listed.code == 0, listed.err
    assert _rows(db_path, "SELECT id, status FROM incident ORDER BY id") == [
        (1, "resolved"),
        (2, "open"),
    ]
    shown = cli("incident", "show", "1")
    assert "a newer incident on the same target is open" in shown.out


def test_an_incident_of_a_killed_worker_is_taken_up_and_its_remedy_runs_once(
    db_path: Path, cli: CliRunner, service: ControlledService, tmp_path: Path
) -> None:
    _add_targets(cli, service, ["shop"])
    added = cli(
        "runbook", "add", "fix-it", "--http", "POST", f"{service.url}/fix", "--risk", "high",
        "--timeout", "5", "--verify", "shop",
    )  # fmt: skip
    assert added.code == 0, added.err
    service.healthy = False
    with _worker(db_path, "north", tmp_path / "north.err") as north:

        def asked() -> list[tuple[object, ...]] | None:
            return _rows(db_path, "SELECT id FROM approval WHERE status = 'pending'") or None

        waiting = _until(asked)
        assert waiting and len(waiting) == 1, _rows(db_path, "SELECT * FROM incident")
        north.send_signal(signal.SIGKILL)
        north.wait(timeout=10)
    killed = time.time()
    with _worker(db_path, "south", tmp_path / "south.err") as south:
        # south may lease shop only once north's lease expired; then it takes up the incident.
        assert _until(lambda: any(w == "south" for _, _, w in _checks(db_path)))
        approved = subprocess.run(
            [str(WEBOPS), "--db", str(db_path), "approvals", "--approve", str(waiting[0][0])],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert approved.returncode == 0, approved.stderr
        assert service.fixes == 1

        def closed() -> list[tuple[object, ...]] | None:
            rows = _rows(db_path, "SELECT status FROM incident")
            return rows if rows and rows[0][0] not in ("open", "awaiting_approval") else None

        assert _until(closed) == [("resolved",)], (
            _rows(db_path, "SELECT id, status, decided_by FROM approval"),
            _rows(db_path, "SELECT kind, actor, text FROM incident_event"),
            (tmp_path / "south.err").read_text()[-3000:],
        )
        south.send_signal(signal.SIGTERM)
        summary = json.loads(south.communicate(timeout=40)[0])
    assert summary["worker"] == "south" and summary["targets_held"] == 1
    assert summary["resolved"] == 1, (summary, (tmp_path / "south.err").read_text())
    assert service.fixes == 1 and time.time() - killed > LEASE_S


def test_each_worker_runs_the_agents_it_is_given(
    db_path: Path, cli: CliRunner, service: ControlledService
) -> None:
    _add_targets(cli, service, ["shop"])
    assert cli("agent", "create", "ben").code == 0
    ran = cli("run", "--worker", "north", "--agents", "ben", "--duration", "1", "--json", "-q")
    assert ran.code == 0, ran.err
    assert ran.json()["team"] == ["ben"] and ran.json()["worker"] == "north"
    everyone = cli("run", "--duration", "1", "--json", "-q")
    assert sorted(everyone.json()["team"]) == ["anna", "ben"]


def test_bad_worker_options_are_one_line_and_exit_2(cli: CliRunner) -> None:
    assert cli("agent", "create", "anna").code == 0
    for args, says in (
        (["--worker", ""], "--worker needs a name"),
        (["--worker", "a\x1b[2J"], "--worker needs a name"),
        (["--worker", "a", "--lease", "0"], "--lease must be between"),
        (["--worker", "a", "--lease", "nan"], "--lease must be between"),
        (["--lease", "5"], "--lease needs --worker"),
        (["--agents", " , "], "--agents needs at least one agent name"),
        (["--worker", "a", "--agents", "anna,nobody"], "--agents: no agent named 'nobody'"),
    ):
        result = cli("run", *args, "--duration", "1")
        assert result.code == 2 and says in result.err, (args, result.err)
        assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
