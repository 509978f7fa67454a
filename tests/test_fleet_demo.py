"""Two workers resolve the demo world's incidents between them, each slot checked once.

The demo world's real services run in this process (webops_tui/demo/world.py); two real
`webops run --worker` processes share its targets on one database (a SQLite file, and a real
PostgreSQL server in the `[postgres]` run), each with its own agents. Faults are injected one at
a time, as `webops demo` does; a fault the team has not fixed after a while is fixed by "a
person", as in the demo. Judged from what the workers stored: one incident per fault, each
closed, and no slot of any target checked by both workers nor left without a check.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from pathlib import Path

import pytest

from agent.core.check_schedule import phase
from agent.core.kernel import Kernel
from tests.test_fleet_workers import _checks, _rows, _until, _worker
from webops_tui.demo.faults import REMEDY
from webops_tui.demo.runner import prepare
from webops_tui.demo.world import DemoWorld

pytestmark = pytest.mark.both_backends

INTERVAL_S = 1.0
FAULTS = 2
#: How long the team has before "a person" applies the right remedy (the demo's escalation).
TEAM_S = 30.0


async def _define(db_path: Path, world: DemoWorld) -> None:
    async with await Kernel.open(db_path) as kernel:
        await prepare(kernel, world)  # anna, ben, cleo; the world's targets and runbooks
        for target in world.targets(interval_s=INTERVAL_S):
            await kernel.ops.add_target(target, replace=True)


def _closed_incidents(db_path: Path) -> list[tuple[object, ...]]:
    return _rows(
        db_path,
        "SELECT target, status, owner FROM incident "
        "WHERE status NOT IN ('open', 'awaiting_approval') ORDER BY id",
    )


def test_two_workers_resolve_demo_incidents_and_check_each_slot_once(
    db_path: Path, tmp_path: Path
) -> None:
    world = DemoWorld(seed=7, noise=0)
    try:
        asyncio.run(_define(db_path, world))
        approve = ("--approve", "all", "--duration", "300")
        with (
            _worker(db_path, "north", tmp_path / "north.err", "--agents", "anna,ben", *approve),
            _worker(db_path, "south", tmp_path / "south.err", "--agents", "cleo", *approve),
        ):
            assert _until(lambda: {w for _, _, w in _checks(db_path)} >= {"north", "south"})
            steady_from = time.time() + INTERVAL_S
            for n in range(1, FAULTS + 1):
                name, kind = world.inject()
                injected = time.monotonic()

                def fixed(
                    name: str = name, kind: str = kind, n: int = n, injected: float = injected
                ) -> bool:
                    if world.fault_of(name) is not None and time.monotonic() - injected > TEAM_S:
                        world.apply(name, REMEDY[kind])  # a person stepped in
                    closed = _closed_incidents(db_path)
                    return world.fault_of(name) is None and len(closed) >= n

                assert _until(fixed, TEAM_S + 40), (
                    name,
                    kind,
                    _rows(db_path, "SELECT id, target, status, owner FROM incident"),
                    (tmp_path / "north.err").read_text()[-2000:],
                )
            steady_to = time.time() - INTERVAL_S
            checks = _checks(db_path, started=True)
    finally:
        world.stop()

    closed = _closed_incidents(db_path)
    # One incident per fault (a unique index, whichever worker saw it first), each resolved,
    # each handled by an agent of the worker that held the target.
    assert len(closed) == FAULTS, closed
    assert all(status == "resolved" for _, status, _ in closed), closed
    assert all(owner in {"anna", "ben", "cleo"} for _, _, owner in closed), closed
    # Each slot of each target: checked, and by one worker only (a failing check's retries
    # fall in its slot too, by the same worker).
    by_slot: defaultdict[tuple[str, int], set[str]] = defaultdict(set)
    for target, started, worker in checks:
        slot = math.floor((started - phase(target, INTERVAL_S)) / INTERVAL_S + 0.5)
        by_slot[target, slot].add(worker)
    shared = {key: workers for key, workers in by_slot.items() if len(workers) > 1}
    assert not shared, shared
    targets = {target for target, _, _ in checks}
    missed = []
    for target in targets:
        first = phase(target, INTERVAL_S)
        for slot in range(
            math.ceil((steady_from - first) / INTERVAL_S),
            math.floor((steady_to - first) / INTERVAL_S),
        ):
            if (target, slot) not in by_slot:
                missed.append((target, slot))
    assert not missed, missed
