"""A key on the Ops tab while 5,000 targets are checked: `scale.ui_key_p95_ms_5000_targets`.

The targets are a farm of healthy HTTP servers in a subprocess (tests/benchmarks/target_farm.py),
imported with `webops target import`. The operator's setup: `webops run` checks them in its own
process, and the workbench is open on the same file, on Ops, following what that process stores
(agent/core/follow.py reads the new check samples and incident changes every second and tells
them on its bus). Once the table is filled and the first checks are in, down and up move the
cursor on the targets table every 0.2 s for `SECONDS`; a key's effect is the time until the
cursor has moved (as in bench_ui.py). The reference, in the same run: the same keys on the same
setup with `FEW` targets of the same farm.

`scale.ui_key_p95_ms_5000_targets_in_process` is the demo's setup: the autopilot runs in the
workbench's own process, on its loop, so checks, repaints and keys compete for one loop. It is
measured against the same reference, with fewer seconds of keys, to keep the suite short.

`WEBOPS_BENCH_UI_TARGETS` and `WEBOPS_BENCH_UI_SECONDS` shrink it for a try.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from textual.widgets import DataTable

from agent.core.autopilot import Autopilot
from agent.events import KernelEvent, TargetChecked
from tests.benchmarks.figures import Figure
from tests.benchmarks.target_farm import TargetFarm
from webops_tui.app import make_app
from webops_tui.config import Settings
from widgets.targets_panel import TargetsPanel

TARGETS = int(os.environ.get("WEBOPS_BENCH_UI_TARGETS", "5000"))
#: The reference: as many targets as a small site has.
FEW = 10
INTERVAL_S = 30.0
#: How long keys are pressed while the targets run (the first checks are in by then).
SECONDS = float(os.environ.get("WEBOPS_BENCH_UI_SECONDS", "30"))
#: The in-process figure's keys: shorter, so the whole suite stays within a few minutes.
IN_PROCESS_SECONDS = SECONDS * 2 / 3
#: Before the keys: the workbench reads the stored targets and the first checks come in.
WARM_UP_S = 8.0


def _webops(db: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "webops_tui", "--db", str(db), *args],
        check=True,
        capture_output=True,
        text=True,
    )


@dataclass
class Presses:
    """Key latencies (ms) on the Ops tab, the checks that reached it and the rows it showed."""

    latencies: list[float]
    checks: int
    rows: int


@asynccontextmanager
async def _checking(db: Path, in_process: bool) -> AsyncIterator[None]:
    """`webops run` on `db` in its own process for the block (unless `in_process`: the
    workbench runs the autopilot itself)."""
    if in_process:
        yield
        return
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "webops_tui", "--db", str(db), "run", "--approve", "none", "-q"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)  # stops cleanly, as Ctrl-C would
        _, err = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"webops run failed: {err.decode(errors='replace')[-2000:]}")


async def _presses(db: Path, targets: int, seconds: float, *, in_process: bool) -> Presses:
    async with _checking(db, in_process):
        app = make_app(Settings(db_path=db))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.kernel is not None
            checked = 0

            def heard(event: KernelEvent) -> None:
                nonlocal checked
                checked += isinstance(event, TargetChecked)

            app.kernel.bus.subscribe(heard)
            stop = asyncio.Event()
            running = None
            if in_process:
                autopilot = Autopilot(app.kernel, approval_policy="none")
                running = asyncio.create_task(autopilot.run(stop))
            app.simulate_key("o")
            loop = asyncio.get_running_loop()
            table = app.query_one(TargetsPanel).query_one("#targets-table", DataTable)
            deadline = loop.time() + 120
            while table.row_count < targets and loop.time() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            await asyncio.sleep(WARM_UP_S)
            table.focus()
            latencies: list[float] = []
            end = loop.time() + seconds
            down = True
            while loop.time() < end:
                before = table.cursor_row
                started = time.perf_counter()
                app.simulate_key("down" if down else "up")  # as the terminal would deliver it
                while table.cursor_row == before:  # noqa: ASYNC110 (polling is the measurement)
                    await asyncio.sleep(0.001)
                latencies.append((time.perf_counter() - started) * 1000)
                down = not down
                await asyncio.sleep(0.2)
            rows = table.row_count
            stop.set()
            if running is not None:
                await running
    return Presses(latencies, checked, rows)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def _watching(tmp: Path, name: str, urls: list[str]) -> Path:
    """A database with one agent and `urls` as targets, stored by `webops target import`."""
    db, document = tmp / f"{name}.db", tmp / f"{name}.toml"
    document.write_text(
        "".join(
            f'[[target]]\nname = "t{i:05d}"\nkind = "http"\naddress = "{url}"\n'
            f"interval_s = {INTERVAL_S:g}\n\n"
            for i, url in enumerate(urls)
        )
    )
    _webops(db, "agent", "create", "ops")
    _webops(db, "target", "import", str(document))
    return db


def _said(presses: Presses, few: Presses, elapsed: float, setup: str) -> str:
    busy, quiet = _p95(presses.latencies), _p95(few.latencies)
    median = statistics.median(presses.latencies)
    return (
        f"p95 with {FEW} targets, `webops run` beside {quiet:.1f} ms "
        f"(ratio {busy / quiet:.1f}x); median {median:.1f} ms, {len(presses.latencies)} "
        f"presses; {presses.rows:,} rows, {presses.checks:,} checks shown in {elapsed:.0f} s; "
        f"{setup}"
    )


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="webops-ui-scale-") as tmp, TargetFarm() as farm:
        urls = farm.start(TARGETS)
        few_db = _watching(Path(tmp), "few", urls[:FEW])
        few = asyncio.run(_presses(few_db, FEW, SECONDS, in_process=False))
        db = _watching(Path(tmp), "scale", urls)
        started = time.perf_counter()
        beside = asyncio.run(_presses(db, TARGETS, SECONDS, in_process=False))
        beside_s = time.perf_counter() - started
        db = _watching(Path(tmp), "in-process", urls)
        started = time.perf_counter()
        inside = asyncio.run(_presses(db, TARGETS, IN_PROCESS_SECONDS, in_process=True))
        inside_s = time.perf_counter() - started
    return [
        Figure(
            f"scale.ui_key_p95_ms_{TARGETS}_targets",
            _p95(beside.latencies),
            "ms",
            "<= 100",
            _said(beside, few, beside_s, "checked by `webops run` in another process, followed"),
        ),
        Figure(
            f"scale.ui_key_p95_ms_{TARGETS}_targets_in_process",
            _p95(inside.latencies),
            "ms",
            "<= 100",
            _said(inside, few, inside_s, "checked by an autopilot in the workbench's own loop"),
        ),
    ]
