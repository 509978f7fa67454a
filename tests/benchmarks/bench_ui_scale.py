"""A key on the Ops tab while 5,000 targets are checked: `scale.ui_key_p95_ms_5000_targets`.

The targets are a farm of healthy HTTP servers in a subprocess (tests/benchmarks/target_farm.py),
imported with `webops target import`. The workbench runs the autopilot in its own process, on
its own loop, the way the demo does (webops_tui/demo/runner.py): the Ops tab follows the
kernel's in-process events (a `webops run` in another process would reach it only through the
history read at start), so this is what an operator watching 5,000 targets gets, checks,
repaints and all competing for one loop. Once the first checks are in, down and up move the
cursor on the targets table every 0.2 s for `SECONDS`; a key's effect is the time until the
cursor has moved (as in bench_ui.py). The reference, in the same run: the same keys on the same
workbench watching `FEW` targets of the same farm.

`WEBOPS_BENCH_UI_TARGETS` and `WEBOPS_BENCH_UI_SECONDS` shrink it for a try.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textual.widgets import DataTable

from agent.core.autopilot import Autopilot
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
#: Before the keys: the workbench reads the stored targets and the first checks come in.
WARM_UP_S = 8.0


def _webops(db: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "webops_tui", "--db", str(db), *args],
        check=True,
        capture_output=True,
        text=True,
    )


async def _presses(db: Path, targets: int) -> tuple[list[float], int, int]:
    """Key latencies (ms) on the Ops tab, the checks made and the rows shown meanwhile."""
    app = make_app(Settings(db_path=db))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.kernel is not None
        stop = asyncio.Event()
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
        end = loop.time() + SECONDS
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
        checks = autopilot.checks
        rows = table.row_count
        stop.set()
        await running
    return latencies, checks, rows


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


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="webops-ui-scale-") as tmp, TargetFarm() as farm:
        urls = farm.start(TARGETS)
        few, _, _ = asyncio.run(_presses(_watching(Path(tmp), "few", urls[:FEW]), FEW))
        db = _watching(Path(tmp), "scale", urls)
        started = time.perf_counter()
        busy, checks, rows = asyncio.run(_presses(db, TARGETS))
        elapsed = time.perf_counter() - started
    return [
        Figure(
            f"scale.ui_key_p95_ms_{TARGETS}_targets",
            _p95(busy),
            "ms",
            "<= 100",
            f"p95 with {FEW} targets {_p95(few):.1f} ms (ratio {_p95(busy) / _p95(few):.1f}x); "
            f"median {statistics.median(busy):.1f} ms, {len(busy)} presses; {rows:,} rows, "
            f"{checks:,} checks in {elapsed:.0f} s in the workbench's own process",
        )
    ]
