"""Retention: `[retention]` in the config keeps episodes, messages, check samples and closed
incidents for so many days; `webops prune [--dry-run]` and `webops run` apply it. Old and new
rows come from the real loop (an unhealthy service, fixed by the team) and real chats, months
apart in virtual time; the audit log is never pruned."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from agent.clock import VirtualClock
from agent.core.autopilot import Autopilot
from agent.core.conversation import chat
from agent.core.kernel import Kernel
from tests.conftest import CliRunner
from tests.service import ControlledService, define_shop

DAY = 86400.0
TABLES = {
    "episodes": ("episode", "ts"),
    "messages": ("message", "ts"),
    "check_samples": ("check_sample", "ts"),
    "incidents": ("incident", "closed_at"),
}


async def _era(db_path: Path, service: ControlledService, days_ago: float) -> None:
    """An incident on the shop, fixed by ben, and a chat, `days_ago` days back."""
    clock = VirtualClock(start=time.time() - days_ago * DAY)
    async with await Kernel.open(db_path, clock=clock.time) as kernel:
        if not await kernel.agent_names():
            await kernel.create_agent("ben", "bold")
            await define_shop(kernel, service, risk="low")
        service.healthy = False
        autopilot = Autopilot(kernel, approval_policy="all", clock=clock)
        await autopilot.run(asyncio.Event(), duration_s=30.0)
        assert autopilot.closed, "the era's incident was not closed"
        await chat(kernel, "ben", "how are you?", operator="alice")


@pytest.fixture
def history(db_path: Path, service: ControlledService) -> Path:
    asyncio.run(_era(db_path, service, days_ago=200))
    asyncio.run(_era(db_path, service, days_ago=1))
    return db_path


def _ages(db: Path) -> dict[str, list[float]]:
    with sqlite3.connect(db) as conn:
        return {
            kind: [r[0] for r in conn.execute(f"SELECT {column} FROM {table}")]
            for kind, (table, column) in TABLES.items()
        }


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def _audit(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT * FROM audit ORDER BY id"))


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_prune_dry_run_counts_then_prune_removes_exactly_that_and_keeps_audit(
    cli: CliRunner, history: Path, tmp_path: Path
) -> None:
    config = _config(
        tmp_path,
        "[retention]\nepisodes = 30\nmessages = 30\ncheck_samples = 30\nincidents = 30\n",
    )
    cutoff = time.time() - 30 * DAY
    before = _ages(history)
    old = {kind: sum(1 for t in ts if t is not None and t < cutoff) for kind, ts in before.items()}
    assert all(old.values()) and all(len(ts) > old[kind] for kind, ts in before.items()), old
    audit = _audit(history)
    dump = _dump(history)

    counted = cli("--config", str(config), "prune", "--dry-run", "--json")
    assert counted.code == 0, counted.err
    counts = counted.json()["counts"]
    assert counts.pop("notifications") == 0  # kept 30 days by default; none were sent here
    assert counts == old and counted.json()["dry_run"] is True
    assert _dump(history) == dump

    shown = cli("--config", str(config), "prune", "--dry-run")
    assert f"episodes: would remove {old['episodes']} older than 30 days" in shown.out
    assert "audit: kept (always)" in shown.out

    done = cli("--config", str(config), "prune", "--json")
    assert done.code == 0, done.err
    assert {k: n for k, n in done.json()["counts"].items() if k in old} == old
    after = _ages(history)
    for kind, ts in after.items():
        assert len(ts) == len(before[kind]) - old[kind]
        assert all(t >= cutoff for t in ts if t is not None)
    assert _audit(history) == audit
    with sqlite3.connect(history) as conn:  # a pruned incident's journal went with it
        orphans = "SELECT count(*) FROM incident_event WHERE incident_id NOT IN "
        assert conn.execute(orphans + "(SELECT id FROM incident)").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM incident_event").fetchone()[0] > 0


def test_a_kind_the_policy_does_not_name_is_kept(
    cli: CliRunner, history: Path, tmp_path: Path
) -> None:
    config = _config(tmp_path, "[retention]\nmessages = 30\n")
    before = _ages(history)
    done = cli("--config", str(config), "prune", "--json")
    assert done.code == 0, done.err
    # (notifications are pruned too, at their default of 30 days, unless named otherwise)
    assert set(done.json()["counts"]) == {"messages", "notifications"}
    after = _ages(history)
    assert len(after["messages"]) < len(before["messages"])
    for kind in ("episodes", "check_samples", "incidents"):
        assert after[kind] == before[kind]


def test_run_applies_the_policy_while_it_watches(
    cli: CliRunner, history: Path, tmp_path: Path, service: ControlledService
) -> None:
    service.healthy = True
    config = _config(tmp_path, "[retention]\nepisodes = 30\nincidents = 30\n")
    cutoff = time.time() - 30 * DAY
    ran = cli("--config", str(config), "run", "--duration", "1", "--quiet")
    assert ran.code == 0, ran.err
    after = _ages(history)
    assert after["episodes"] and all(t >= cutoff for t in after["episodes"])
    assert after["incidents"] and all(t >= cutoff for t in after["incidents"] if t)
    assert any(t < cutoff for t in after["messages"])  # not in this policy


@pytest.mark.parametrize(
    "policy", ["episodes = -1", "messages = 0", "incidents = inf", "audit = 30", 'episodes = "x"']
)
def test_a_bad_policy_is_one_line_exit_2_and_nothing_is_removed(
    cli: CliRunner, history: Path, tmp_path: Path, policy: str
) -> None:
    config = _config(tmp_path, f"[retention]\n{policy}\n")
    dump = _dump(history)
    refused = cli("--config", str(config), "prune")
    assert refused.code == 2
    assert refused.err.count("\n") == 1 and "Traceback" not in refused.err, refused.err
    assert _dump(history) == dump


def test_without_a_policy_prune_keeps_everything(cli: CliRunner, history: Path) -> None:
    dump = _dump(history)
    done = cli("--config", str(history.parent / "none.toml"), "prune")
    assert done.code == 0 and "everything is kept" in done.out
    assert _dump(history) == dump
