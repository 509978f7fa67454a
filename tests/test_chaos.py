"""SIGKILL chaos (issue 18, item 7): a real `webops demo --headless` writing to one file is
killed at seeded random moments, and after every kill the file must still be whole.

What "whole" means, checked after each kill the way a user would find out: `webops status`
opens the file (exit 0), `PRAGMA integrity_check` says ok, `webops audit --verify` accepts the
keyed chain, and no committed row is lost: the rows of incident, audit and episode counted from a
separate reader connection just before the kill are all there after reopening (the counts never
go down). The kills land anywhere: while the process starts and reopens the file, while the team
works an incident, while it writes its memory.

`make test` runs a fast subset (WEBOPS_CHAOS_KILLS, default 3); `make fuzz` runs the long one.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import CliRunner

WEBOPS = Path(sys.executable).with_name("webops")
KILLS = int(os.environ.get("WEBOPS_CHAOS_KILLS", "3"))
COUNTED = ("incident", "audit", "episode")


def _counts(db: Path) -> dict[str, int] | None:
    """Committed rows per table, read by a connection of our own; None before the schema."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in COUNTED}
    except sqlite3.Error:  # no schema yet, or busy past the timeout
        return None
    finally:
        conn.close()


def _start(db: Path, seed: int) -> subprocess.Popen[bytes]:
    demo = ["demo", "--headless", "--duration", "120", "--seed", str(seed), "--json"]
    return subprocess.Popen(
        [str(WEBOPS), "--db", str(db), *demo],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_at(process: subprocess.Popen[bytes], db: Path, moment: float) -> dict[str, int] | None:
    """Count committed rows until `moment` seconds after the start, then SIGKILL at once; the
    last count is what the file must still hold afterwards."""
    started = time.monotonic()
    last: dict[str, int] | None = None
    while process.poll() is None:
        last = _counts(db) or last
        if time.monotonic() - started >= moment:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the demo ended before it was killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return last


def _wait_for_work(process: subprocess.Popen[bytes], db: Path, seen: dict[str, int]) -> None:
    """Until this run's team has stored a memory of its own: the loop is at work."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        counts = _counts(db)
        if counts is not None and counts["episode"] > seen["episode"]:
            return
        time.sleep(0.05)
    raise AssertionError("the demo never stored a memory")


def test_sigkill_at_random_moments_leaves_a_whole_file(tmp_path: Path, cli: CliRunner) -> None:
    db = tmp_path / "chaos.db"
    rng = random.Random(18)
    seen: dict[str, int] = dict.fromkeys(COUNTED, 0)
    for round_ in range(KILLS):
        process = _start(db, seed=round_)
        if round_ % 3 == 1:
            moment = rng.uniform(0.0, 2.5)  # while it starts: opening, migrating, preparing
        else:
            _wait_for_work(process, db, seen)
            moment = rng.uniform(0.0, 2.0)  # while the team works incidents
        before = _kill_at(process, db, moment)
        if before is not None:
            assert all(before[t] >= seen[t] for t in COUNTED), (round_, before, seen)
            seen = before

        status = cli("status", db=db)
        assert status.code == 0, (round_, moment, status.err)
        with contextlib.closing(sqlite3.connect(db)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], round_
        verdict = cli("audit", "--verify", "--json", db=db)
        assert verdict.code == 0 and verdict.json()["ok"] is True, (round_, verdict.out)
        after = _counts(db)
        assert after is not None
        lost = {t: (seen[t], after[t]) for t in COUNTED if after[t] < seen[t]}
        assert not lost, f"round {round_} (killed at {moment:.2f} s) lost rows: {lost}"
        seen = after
    assert seen["audit"] > 0 and seen["episode"] > 0, seen
