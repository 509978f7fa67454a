"""The autonomous loop after a temporary disk-full (issue 18): the database lives on a real,
tiny tmpfs that a filler file fills up; while it is full the incident cannot be stored, and
once the filler is gone the still-down target's incident is opened and handled. Needs
permission to mount a tmpfs (root, as in CI's container); skipped elsewhere."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.core.autopilot import Autopilot
from agent.core.kernel import Kernel
from agent.ops.targets import runbook_spec, target_spec
from tests.service import ControlledService


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 4096)
    return filler


async def test_the_loop_handles_the_incident_once_the_disk_has_room(small_disk: Path) -> None:
    problems: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: problems.append(ctx))
    db_path = small_disk / "webops.db"
    with ControlledService(healthy=False) as service:
        async with await Kernel.open(db_path) as kernel:
            await kernel.create_agent("ben", "bold")
            await kernel.ops.add_target(
                target_spec(
                    name="shop",
                    kind="http",
                    address=f"{service.url}/health",
                    interval_s=0.2,
                    timeout_s=1,
                    failure_threshold=6,  # the disk fills up before the incident opens
                )
            )
            await kernel.ops.add_runbook(
                runbook_spec(
                    name="fix-shop",
                    kind="http",
                    method="POST",
                    url=f"{service.url}/fix",
                    risk="low",
                    verify_target="shop",
                )
            )
            await kernel.flush()
            with sqlite3.connect(db_path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            lines: list[str] = []
            autopilot = Autopilot(kernel, on_event=lines.append)
            stop = asyncio.Event()
            runner = asyncio.create_task(autopilot.run(stop))
            await asyncio.sleep(0.3)  # the team is up and watching
            filler = fill(small_disk)
            await asyncio.sleep(2.0)  # several failing checks; the incident cannot be stored
            full_lines = list(lines)
            filler.unlink()
            for _ in range(200):
                await asyncio.sleep(0.05)
                if autopilot.closed:
                    break
            stop.set()
            await runner
        assert any("full" in line for line in full_lines), full_lines
        assert service.healthy and service.fixes == 1, lines
        (incident,) = autopilot.closed
        assert incident.status == "resolved"
    import gc

    gc.collect()
    await asyncio.sleep(0)
    assert not [p for p in problems if "never retrieved" in str(p.get("message"))], problems
