"""Key presses while 200 kernel events a second pour into the workbench, and quitting it.

Emotion events for the selected agent (the gauges repaint) and decision lines for the activity
log, 200 a second for 10 seconds; meanwhile a key switches tabs every 0.2 s and the time until
the tab has switched is measured. The reference is the same presses with no events.

Quitting (`ui.quit_s`): a real `webops demo` in a pseudo-terminal, as a user starts it, is left
to work for `DEMO_BUSY_S` (services up, checks running, faults injected and handled), then gets
ctrl+q; the figure is the time from that key to the process's exit, so it holds everything a
user waits for: the autopilot's tasks stopped, the world's services down, the last flush, the
database closed, Textual's teardown and the interpreter's exit. A pilot would leave out the
terminal driver and the interpreter. The reference is the same for an empty Textual `App`
started the same way in the same run: what any Textual program costs to quit here.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
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
#: How long the demo works before ctrl+q, and how many times each program is quit.
DEMO_BUSY_S = 12.0
QUITS = 2
#: A key whose tab has not shown after this long is counted as lost (the run goes on).
LOST_S = 5.0
EMPTY_APP = "from textual.app import App\nApp().run()"


async def _presses(flood: bool) -> tuple[list[float], int, int]:
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
            lost = 0
            keys = [("o", "ops"), ("t", "team")]
            i = 0
            while loop.time() < end:
                key, tab = keys[i % 2]
                i += 1
                started = time.perf_counter()
                app.simulate_key(key)  # as the terminal would deliver it
                while tabs.active != tab and time.perf_counter() - started < LOST_S:  # noqa: ASYNC110 (polling is the measurement)
                    await asyncio.sleep(0.001)
                if tabs.active != tab:
                    lost += 1  # counted and said, not waited on for ever
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.2)
            if flooding is not None:
                await flooding
        return latencies, sent, lost


def _quit_s(command: list[str], busy_s: float) -> float:
    """Start `command` in a 120x40 pseudo-terminal, wait `busy_s`, press ctrl+q: seconds from
    the key to the process's exit. The screen it draws is read and thrown away."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=os.environ | {"TERM": "xterm-256color"},
        start_new_session=True,
    )
    os.close(slave)

    def drain() -> None:
        with contextlib.suppress(OSError):
            while os.read(master, 65536):
                pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        time.sleep(busy_s)
        if process.poll() is not None:
            raise RuntimeError(f"{command[-1]} ended by itself ({process.returncode})")
        pressed = time.perf_counter()
        os.write(master, b"\x11")  # ctrl+q
        process.wait(60)
        return time.perf_counter() - pressed
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
        reader.join(5)


def _quits() -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        demo = [sys.executable, "-m", "webops_tui", "--db", str(Path(tmp) / "q.db"), "demo"]
        empty = [_quit_s([sys.executable, "-c", EMPTY_APP], 2.0) for _ in range(QUITS)]
        return [_quit_s(demo, DEMO_BUSY_S) for _ in range(QUITS)], empty


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def run() -> list[Figure]:
    idle, _, lost_idle = asyncio.run(_presses(flood=False))
    busy, sent, lost = asyncio.run(_presses(flood=True))
    demo, empty = _quits()
    return [
        Figure(
            "ui.key_p95_ms_at_200_eps",
            _p95(busy),
            "ms",
            "<= 100",
            f"{sent / SECONDS:.0f} events/s; p95 with no events {_p95(idle):.1f} ms, "
            f"{len(busy)} presses, {lost + lost_idle} without effect in {LOST_S:g} s",
        ),
        Figure(
            "ui.quit_s",
            max(demo),
            "s",
            "<= 0.5",
            f"ctrl+q to exit of `webops demo` after {DEMO_BUSY_S:.0f} s, worst of "
            f"{', '.join(f'{s:.2f}' for s in demo)}; an empty Textual app "
            f"{min(empty):.2f}-{max(empty):.2f} s, ratio {max(demo) / max(empty):.1f}x",
        ),
    ]
