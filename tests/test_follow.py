"""The workbench follows the work of another process on the same file: an operator runs
`webops run` in one terminal and watches in the workbench in another, and the Ops tab moves
with the other process's checks and incidents (agent/core/follow.py).

Real parts: a real `webops run` subprocess checking a local HTTP service on 127.0.0.1, the
real Textual app through its pilot on the same SQLite file, the real CLI to set it up.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.conftest import CliRunner
from tests.service import ControlledService

WEBOPS = Path(sys.executable).with_name("webops")


async def _until(pilot: object, check: object, seconds: float = 40) -> bool:
    """Poll `check()` (on the app's loop) until it holds or `seconds` pass."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot) and callable(check)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if check():
            return True
        await pilot.pause(0.1)
    return bool(check())


async def test_the_ops_tab_follows_a_webops_run_in_another_process(
    db_path: Path, cli: CliRunner, service: ControlledService, tmp_path: Path
) -> None:
    from textual.widgets import DataTable

    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.targets_panel import TargetsPanel

    assert (await asyncio.to_thread(cli, "agent", "create", "anna")).code == 0
    added = await asyncio.to_thread(
        cli, "target", "add", "shop", "--address", f"{service.url}/health", "--interval", "0.5",
        "--failure-threshold", "2", "--retry-interval", "0.5",
    )  # fmt: skip
    assert added.code == 0, added.out
    app = make_app(Settings(db_path=db_path))
    log = tmp_path / "run.err"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        panel = app.query_one(TargetsPanel)
        targets = panel.query_one("#targets-table", DataTable)
        incidents = panel.query_one("#incidents-table", DataTable)

        def row() -> list[str]:
            if "shop" not in {r.key.value for r in targets.ordered_rows}:
                return []
            return [str(cell) for cell in targets.get_row("shop")]

        assert await _until(pilot, lambda: row() and row()[1] == "-"), row()  # not checked yet
        with log.open("w") as err:
            process = await asyncio.to_thread(
                subprocess.Popen,
                [str(WEBOPS), "--db", str(db_path), "run", "--approve", "none", "--duration", "90"],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            try:
                # The other process's checks: status and latency on the row.
                assert await _until(pilot, lambda: row()[1] == "up" and row()[2] != "-"), row()
                service.healthy = False
                assert await _until(pilot, lambda: row()[1] == "DOWN"), row()

                def incident() -> list[str]:
                    for shown in incidents.ordered_rows:
                        cells = [str(c) for c in incidents.get_row(shown.key)]
                        if cells[1] == "shop":
                            return cells
                    return []

                # The incident the other process opened, then its close when the service heals.
                assert await _until(pilot, lambda: bool(incident())), log.read_text()
                service.healthy = True
                assert await _until(pilot, lambda: incident()[4] in ("recovered", "resolved")), (
                    incident()
                )
                assert await _until(pilot, lambda: row()[1] == "up"), row()
            finally:
                process.terminate()
                await asyncio.to_thread(process.wait, 30)
    assert "Traceback" not in log.read_text()


async def test_checks_made_in_this_process_are_told_once(
    db_path: Path, cli: CliRunner, service: ControlledService
) -> None:
    """With the follower started beside an autopilot in the same process (the demo in the
    workbench), each check reaches the bus once: the autopilot tells its own."""
    from agent.core.autopilot import Autopilot
    from agent.core.kernel import Kernel
    from agent.events import KernelEvent, TargetChecked

    assert (await asyncio.to_thread(cli, "agent", "create", "anna")).code == 0
    added = await asyncio.to_thread(
        cli, "target", "add", "shop", "--address", f"{service.url}/health", "--interval", "0.3"
    )
    assert added.code == 0, added.out
    told: Counter[tuple[str, float]] = Counter()

    def heard(event: KernelEvent) -> None:
        if isinstance(event, TargetChecked):
            told[(event.target, event.ts)] += 1

    async with await Kernel.open(db_path) as kernel:
        kernel.bus.subscribe(heard)
        kernel.follower.start()
        stop = asyncio.Event()
        autopilot = Autopilot(kernel, approval_policy="none")
        running = asyncio.create_task(autopilot.run(stop))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 40
        while autopilot.checks < 8 and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.5)  # the follower reads at least twice meanwhile
        stop.set()
        await running
        await asyncio.sleep(2.5)  # and after the autopilot stopped (its last rows flushed)
        assert autopilot.checks >= 8
        assert sum(told.values()) == autopilot.checks
        assert set(told.values()) == {1}
