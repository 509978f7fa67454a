"""Is the event loop alive and prompt? A probe that sleeps a little and measures how late it
wakes.

Everything in the kernel runs on one loop: a callback that blocks it (a sync read of a big
file, a CPU-bound recall) stalls every agent, check and request at once, and the request that
asks `/api/health` only runs after the stall is over. So the probe keeps ticking in the
background and remembers the worst lateness of its recent ticks: the stall shows at the next
health read. It starts with the first read (an app built but never served starts nothing) and
ends with the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

#: How often the probe wakes, and how many of its latest ticks count.
TICK_S = 0.5
WINDOW = 20
#: A loop later than this (within the window) is unhealthy: seconds, not milliseconds, since a
#: busy machine makes it late by tenths of a second without anything being wrong.
LAG_LIMIT_S = 5.0


class LoopProbe:
    def __init__(self, stopping: asyncio.Event) -> None:
        self._stopping = stopping
        self._lags: deque[float] = deque(maxlen=WINDOW)
        self._task: asyncio.Task[None] | None = None
        #: When the sleeping probe should wake: a read right after a stall, before the probe
        #: got its turn, sees how late it is already.
        self._due: float | None = None

    def _ensure_running(self) -> None:
        if self._stopping.is_set():
            return
        if self._task is None or self._task.done():  # a probe that died is started again
            self._task = asyncio.create_task(self._run(), name="api:loop-probe")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            self._due = time.monotonic() + TICK_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), TICK_S)
            self._lags.append(max(0.0, time.monotonic() - self._due))
            self._due = None

    async def lag_s(self) -> float:
        """The worst lateness seen lately: of the background ticks (the one still asleep
        included), and of one turn of the loop now (the callbacks ready before this one)."""
        self._ensure_running()
        started = time.monotonic()
        overdue = 0.0 if self._due is None else started - self._due
        await asyncio.sleep(0)
        return max([time.monotonic() - started, overdue, *self._lags])
