"""Key presses while 200 kernel events a second pour into the workbench.

Emotion events for the selected agent (the gauges repaint) and decision lines for the activity
log, 200 a second for 10 seconds; meanwhile a key switches tabs every 0.2 s and the time until
the tab has switched is measured. The reference is the same presses with no events.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from textual.widgets import TabbedContent

from agent.core.kernel import Kernel
from agent.events import DecisionMade
from agent.mind.emotions import Appraisal
from tests.benchmarks.figures import Figure
from webops_tui.app import make_app
from webops_tui.config import Settings

RATE = 200
SECONDS = 10.0


async def _presses(flood: bool) -> tuple[list[float], int]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ui.db"
        async with await Kernel.open(db) as kernel:
            await kernel.create_agent("anna", "cautious")
        app = make_app(Settings(db_path=db))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.kernel is not None
            kernel = app.kernel
            agent = await kernel.load_agent("anna")
            loop = asyncio.get_running_loop()
            end = loop.time() + SECONDS
            sent = 0

            async def pour() -> None:
                nonlocal sent
                due = loop.time()
                events = (Appraisal.SUCCESS, Appraisal.FAILURE, Appraisal.UNEXPECTED)
                while loop.time() < end:
                    agent.feel(events[sent % 3], 0.2, cause="benchmark")
                    kernel.bus.publish(
                        DecisionMade(
                            agent="anna",
                            option="act",
                            action="noop",
                            target=None,
                            confidence=0.5,
                            requires_approval=False,
                            summary=f"tick {sent}",
                        )
                    )
                    sent += 2
                    due += 2 / RATE
                    await asyncio.sleep(max(0.0, due - loop.time()))

            flooding = asyncio.create_task(pour()) if flood else None
            tabs = app.query_one(TabbedContent)
            latencies = []
            keys = [("o", "ops"), ("t", "team")]
            i = 0
            while loop.time() < end:
                key, tab = keys[i % 2]
                i += 1
                started = time.perf_counter()
                app.simulate_key(key)  # as the terminal would deliver it
                while tabs.active != tab:  # noqa: ASYNC110 (polling is the measurement)
                    await asyncio.sleep(0.001)
                latencies.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.2)
            if flooding is not None:
                await flooding
        return latencies, sent


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def run() -> list[Figure]:
    idle, _ = asyncio.run(_presses(flood=False))
    busy, sent = asyncio.run(_presses(flood=True))
    return [
        Figure(
            "ui.key_p95_ms_at_200_eps",
            _p95(busy),
            "ms",
            "<= 100",
            f"{sent / SECONDS:.0f} events/s; p95 with no events {_p95(idle):.1f} ms, "
            f"{len(busy)} presses",
        )
    ]
