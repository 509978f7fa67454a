"""Two `webops run --worker` processes on one PostgreSQL database share 5,000 targets; then one
is killed with SIGKILL and the other takes its targets over.

Everything is real: a PostgreSQL server started here (tests/pg_cluster.py), the farm of healthy
HTTP targets in a subprocess (tests/benchmarks/target_farm.py) that records when each target is
asked, and two worker subprocesses. The farm's arrivals, not the product's own counters, judge
the sharing: each target is due once per interval in a slot of its own (its phase on the wall
clock, agent/core/check_schedule.py `phase`), and in the steady part of the run every slot of
every target must have been asked exactly once (`fleet.checks_missed`, `fleet.duplicate_checks`).
After the SIGKILL, `fleet.takeover_s` is how long until the survivor holds every target, read
from `webops workers --json` as an operator would; the target is two lease periods. The
reference, from the same run: the lease period, and the slots counted.

`WEBOPS_FLEET_TARGETS`, `WEBOPS_FLEET_INTERVAL` and `WEBOPS_FLEET_LEASE` shrink it for a try.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from agent.core.check_schedule import phase
from tests.benchmarks.figures import Figure
from tests.benchmarks.target_farm import TargetFarm
from tests.pg_cluster import PostgresCluster

TARGETS = int(os.environ.get("WEBOPS_FLEET_TARGETS", "5000"))
INTERVAL_S = float(os.environ.get("WEBOPS_FLEET_INTERVAL", "30"))
LEASE_S = float(os.environ.get("WEBOPS_FLEET_LEASE", "10"))
#: Whole intervals judged for misses and duplicates, after both workers settled.
STEADY_INTERVALS = 2
#: How long the workers may take to load 5,000 targets and share them out.
SETTLE_LIMIT_S = 120.0


def _webops(url: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "webops_tui", "--db", url, *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return done.stdout


def _worker(url: str, env: dict[str, str], name: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "webops_tui",
            "--db",
            url,
            "--log-file",
            str(log),
            "run",
            "--worker",
            name,
            "--lease",
            f"{LEASE_S:g}",
            "--approve",
            "all",
            "--quiet",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _held(url: str, env: dict[str, str]) -> dict[str, tuple[bool, int]]:
    """Each worker's (live, targets held), as `webops workers --json` says."""
    found = json.loads(_webops(url, env, "workers", "--json"))["workers"]
    return {w["name"]: (bool(w["live"]), int(w["targets"])) for w in found}


def _slots(
    arrivals: dict[str, list[float]], names: Sequence[str], start: float, end: float
) -> tuple[int, int, int]:
    """(slots, missed, duplicates) over the slots due in [start, end) (wall clock).

    A target's slot k is centred on its due time `phase + k * interval`; an arrival belongs
    to the slot whose centre is nearest, so a check started a little late still counts once.
    """
    offset = time.time() - time.monotonic()  # the farm records monotonic seconds
    slots = missed = duplicates = 0
    for index, name in enumerate(names):
        first = phase(name, INTERVAL_S)
        k_from = math.ceil((start - first) / INTERVAL_S)
        k_to = math.ceil((end - first) / INTERVAL_S) - 1
        counts: dict[int, int] = {}
        for t in arrivals.get(f"/t/{index}", []):
            k = round((t + offset - first) / INTERVAL_S)
            counts[k] = counts.get(k, 0) + 1
        for k in range(k_from, k_to + 1):
            slots += 1
            n = counts.get(k, 0)
            missed += n == 0
            duplicates += max(0, n - 1)
    return slots, missed, duplicates


def _wait(what: str, until: float, ready: object) -> None:
    while time.monotonic() < until:
        if callable(ready) and ready():
            return
        time.sleep(0.25)
    raise RuntimeError(f"fleet benchmark: {what} did not happen in time")


def run() -> list[Figure]:
    with (
        tempfile.TemporaryDirectory(prefix="webops-fleet-") as tmp,
        PostgresCluster() as cluster,
        TargetFarm() as farm,
    ):
        url = cluster.create_database("fleet")
        env = {**os.environ, "WEBOPS_KEYS": tmp}
        urls = farm.start(TARGETS)
        names = [f"t{i:05d}" for i in range(TARGETS)]
        document = Path(tmp) / "targets.toml"
        document.write_text(
            "".join(
                f'[[target]]\nname = "{name}"\nkind = "http"\naddress = "{address}"\n'
                f"interval_s = {INTERVAL_S:g}\n\n"
                for name, address in zip(names, urls, strict=True)
            )
        )
        _webops(url, env, "agent", "create", "ada")
        _webops(url, env, "target", "import", str(document))
        workers = {
            name: _worker(url, env, name, Path(tmp) / f"{name}.log") for name in ("w1", "w2")
        }
        try:
            half = math.ceil(TARGETS / 2)

            def shared() -> bool:
                held = _held(url, env)
                return all(held.get(w, (False, 0)) == (True, half) for w in ("w1", "w2")) or (
                    sum(n for _live, n in held.values()) == TARGETS
                    and all(n > 0 for _live, n in held.values())
                )

            _wait("two workers sharing the targets", time.monotonic() + SETTLE_LIMIT_S, shared)
            # The first interval after sharing settles the slots; then the judged ones.
            steady_from = time.time() + INTERVAL_S
            steady_to = steady_from + STEADY_INTERVALS * INTERVAL_S
            time.sleep(steady_to - time.time() + INTERVAL_S)  # the last slots' halves too
            killed_at = time.monotonic()
            workers["w1"].send_signal(signal.SIGKILL)
            workers["w1"].wait()

            def taken_over() -> bool:
                held = _held(url, env)
                return held.get("w2", (False, 0))[1] == TARGETS

            _wait("the take-over", killed_at + 10 * LEASE_S, taken_over)
            takeover_s = time.monotonic() - killed_at
        finally:
            for process in workers.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in workers.values():
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
        arrivals = farm.stop()
    slots, missed, duplicates = _slots(arrivals, names, steady_from, steady_to)
    where = f"{TARGETS} targets every {INTERVAL_S:g} s, 2 workers"
    return [
        Figure(
            "fleet.checks_missed",
            missed,
            "",
            "<= 0",
            f"{slots} slots over {STEADY_INTERVALS} intervals ({where})",
        ),
        Figure(
            "fleet.duplicate_checks",
            duplicates,
            "",
            "<= 0",
            f"{slots} slots over {STEADY_INTERVALS} intervals ({where})",
        ),
        Figure(
            "fleet.takeover_s",
            round(takeover_s, 2),
            "s",
            f"<= {2 * LEASE_S:g}",
            f"lease {LEASE_S:g} s: {takeover_s / LEASE_S:.2f} lease periods after SIGKILL",
        ),
    ]
