"""PostgreSQL restarted under a running worker: the worker carries on, nothing committed is lost.

A real server (tests/pg_cluster.py) is restarted with `pg_ctl restart -m fast`, which cuts every
connection, while a real `webops run --worker` subprocess checks a real service. The worker's
sessions fail for the moment the server is away (said once as "could not save, will try
again"), its pool connects anew (`pool_pre_ping`), and its checks are stored again afterwards.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests.conftest import CliRunner
from tests.pg_cluster import PostgresCluster
from tests.raw_sql import raw
from tests.service import ControlledService

WEBOPS = Path(sys.executable).with_name("webops")
T = TypeVar("T")


def _until(check: Callable[[], T], seconds: float = 40) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if found := check():
                return found
        except OSError:  # the server is restarting: ask again
            pass
        time.sleep(0.1)
    return check()


def _samples(url: str) -> list[int]:
    return [int(i) for (i,) in raw(url, "SELECT id FROM check_sample ORDER BY id")]


def test_a_worker_survives_a_postgresql_restart_and_keeps_what_was_committed(
    pg_url: str,
    pg_cluster: PostgresCluster,
    cli: CliRunner,
    service: ControlledService,
    tmp_path: Path,
) -> None:
    assert cli("agent", "create", "anna", db=pg_url).code == 0
    added = cli(
        "target", "add", "shop", "--address", f"{service.url}/health", "--interval", "0.3",
        db=pg_url,
    )  # fmt: skip
    assert added.code == 0, added.err
    log = tmp_path / "worker.log"
    with (tmp_path / "worker.err").open("w") as err:
        worker = subprocess.Popen(
            [str(WEBOPS), "--db", pg_url, "--log-file", str(log), "run", "--worker", "w1",
             "--lease", "3", "--duration", "120", "--json"],
            stdout=subprocess.PIPE, stderr=err,
        )  # fmt: skip
    try:
        before = _until(lambda: (found := _samples(pg_url)) and len(found) >= 5 and found)
        assert before, (tmp_path / "worker.err").read_text()
        pg_cluster.restart()
        restarted = time.monotonic()

        def stored_again() -> list[int] | None:
            after = _samples(pg_url)
            return after if len(after) >= len(before) + 10 else None

        after = _until(stored_again)
        assert after, (tmp_path / "worker.err").read_text()
        assert set(before) <= set(after)  # nothing committed before the restart is lost
        assert worker.poll() is None  # the worker is still running
        if sys.__stderr__ is not None:
            sys.__stderr__.write(
                f"\nchecks stored again {time.monotonic() - restarted:.2f} s after the restart\n"
            )
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=40)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0
    summary = json.loads(out)
    assert summary["checks"] >= len(after) - 2  # every check it made but the last is stored
    said = (tmp_path / "worker.err").read_text()
    assert "Traceback" not in said and "Traceback" not in log.read_text()
    leases = cli("workers", "--json", db=pg_url).json()["workers"]
    assert [(w["name"], w["stopped"], w["targets"]) for w in leases] == [("w1", True, 0)]
