"""The time the autopilot, the demo and cached reads wait on: real for users, virtual in tests.

Code that waits for time to pass (check every 0.3 s, inject a fault after a quiet 0.4 s, give up
on a broken service after 10 s, trust a cached read for 1 s) takes a `Clock` instead of calling
`time` and `asyncio.sleep` itself. `SystemClock` is the real one and the default everywhere, so
`webops run` and `webops demo` keep running in real time.

`VirtualClock` is for tests. Its time stands still while anything it drives is working and jumps
to the next deadline the moment every task it drives waits only on the clock (the way Trio's
`MockClock` auto-jumps, but counted per task: the loop being idle is not enough here, because
the work it drives waits on threads, real HTTP servers on 127.0.0.1 and SQLite, and time must
not pass while those answer). A speed factor (sleep `s/k`, time runs `k` times faster) was the
other candidate; it was rejected because on a loaded 2-core machine the real work — HTTP calls,
SQLite writes, thinking — would take `k` times as long in clock time, so how many incidents fit
into 25 s would depend on the machine's load. With jumps, outcomes depend on what happens, not
on how fast the machine is, and idle waiting costs nothing. Real latencies stay real: checks
measure them with `time.perf_counter`, which no clock touches.

Which tasks drive time: a task inside `taking_part()` and a task given to `track()`. Any task
may sleep on the clock; untracked sleepers simply never hold time back.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
AnyTask = asyncio.Task[Any]

#: Loop turns time must stay still before a virtual clock jumps: a task another one just woke
#: (a finished future, a set event) gets to run and say whether it is busy first.
SETTLE_TURNS = 3


class Clock(Protocol):
    """Wall and monotonic time, and ways to wait that follow them."""

    def time(self) -> float:
        """Seconds since the epoch (timestamps that are stored)."""

    def monotonic(self) -> float:
        """Seconds for measuring intervals and deadlines."""

    async def sleep(self, seconds: float) -> None: ...

    async def wait(self, event: asyncio.Event, within: float) -> bool:
        """Wait until `event` is set or `within` seconds passed; whether it is set."""

    async def wait_tasks(
        self, tasks: Iterable[AnyTask], within: float
    ) -> tuple[set[AnyTask], set[AnyTask]]:
        """`asyncio.wait(tasks, timeout=within)` in this clock's time: (done, pending)."""

    def track(self, task: asyncio.Task[T]) -> asyncio.Task[T]:
        """Let `task` (just created) drive this clock until it ends; returns it."""

    def taking_part(self) -> AbstractContextManager[None]:
        """The current task drives this clock while inside the block."""


class SystemClock:
    """The real clock: `time.time`, `time.monotonic` and the event loop's own waits."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait(self, event: asyncio.Event, within: float) -> bool:
        with suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), within)
        return event.is_set()

    async def wait_tasks(
        self, tasks: Iterable[AnyTask], within: float
    ) -> tuple[set[AnyTask], set[AnyTask]]:
        return await asyncio.wait(set(tasks), timeout=within)

    def track(self, task: asyncio.Task[T]) -> asyncio.Task[T]:
        return task

    @contextmanager
    def taking_part(self) -> Iterator[None]:
        yield


#: The clock everything uses unless given another.
SYSTEM = SystemClock()


class VirtualClock:
    """Time that jumps to the next deadline once every task driving it only waits on it.

    One clock belongs to one event loop. `time()` starts at the real wall time of creation
    (stored timestamps look ordinary); `monotonic()` starts at 0.
    """

    def __init__(self, start: float | None = None) -> None:
        self._wall0 = time.time() if start is None else start
        self._now = 0.0
        self._deadlines: list[tuple[float, int, asyncio.Future[None], AnyTask | None]] = []
        self._order = itertools.count()
        #: Tasks that drive time (a task may take part in nested blocks: a count).
        self._driving: dict[AnyTask, int] = {}
        #: Tasks waiting only on this clock right now, with the number of that wait.
        self._idle: dict[AnyTask, int] = {}
        self._settling = False
        self.jumps = 0

    # -- reading ---------------------------------------------------------------------------

    def time(self) -> float:
        return self._wall0 + self._now

    def monotonic(self) -> float:
        return self._now

    # -- waiting ---------------------------------------------------------------------------

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        deadline = self._deadline(seconds)
        await self._idle_until([deadline])

    async def wait(self, event: asyncio.Event, within: float) -> bool:
        if event.is_set():
            return True
        setter = asyncio.ensure_future(event.wait())
        try:
            await self._idle_until([self._deadline(within), setter])
        finally:
            setter.cancel()
        return event.is_set()

    async def wait_tasks(
        self, tasks: Iterable[AnyTask], within: float
    ) -> tuple[set[AnyTask], set[AnyTask]]:
        pending = {t for t in tasks if not t.done()}
        if pending:
            finished = asyncio.ensure_future(asyncio.wait(pending))
            try:
                await self._idle_until([self._deadline(within), finished])
            finally:
                finished.cancel()
        done = {t for t in pending if t.done()}
        return done, pending - done

    # -- who drives time -------------------------------------------------------------------

    def track(self, task: asyncio.Task[T]) -> asyncio.Task[T]:
        self._driving[task] = self._driving.get(task, 0) + 1
        task.add_done_callback(self._untrack)
        return task

    def _untrack(self, task: AnyTask) -> None:
        self._drop(task)

    @contextmanager
    def taking_part(self) -> Iterator[None]:
        task = asyncio.current_task()
        assert task is not None, "taking_part() needs a running task"
        self._driving[task] = self._driving.get(task, 0) + 1
        try:
            yield
        finally:
            self._drop(task)

    def _drop(self, task: AnyTask) -> None:
        left = self._driving.get(task, 0) - 1
        if left > 0:
            self._driving[task] = left
        else:
            self._driving.pop(task, None)
        self._poke()

    # -- the jump --------------------------------------------------------------------------

    def _deadline(self, seconds: float) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self._now + max(0.0, seconds), next(self._order), future, asyncio.current_task())
        heapq.heappush(self._deadlines, entry)
        return future

    async def _idle_until(self, futures: list[asyncio.Future[Any]]) -> None:
        task = asyncio.current_task()
        assert task is not None
        wait = next(self._order)

        def busy(_future: asyncio.Future[Any]) -> None:
            if self._idle.get(task) == wait:  # not a later wait of the same task
                del self._idle[task]

        for future in futures[1:]:  # woken by something else: busy again at once
            future.add_done_callback(busy)
        self._idle[task] = wait
        self._poke()
        try:
            await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
        finally:
            busy(futures[0])
            deadline = futures[0]
            if not deadline.done():
                deadline.cancel()  # its heap entry is skipped when reached

    def _quiet(self) -> bool:
        return all(task in self._idle for task in self._driving)

    def _poke(self) -> None:
        if not self._settling:
            self._settling = True
            asyncio.get_running_loop().call_soon(self._settle, SETTLE_TURNS)

    def _settle(self, turns: int) -> None:
        while self._deadlines and self._deadlines[0][2].done():
            heapq.heappop(self._deadlines)  # cancelled: its waiter woke otherwise
        if not self._deadlines or not self._quiet():
            self._settling = False
            return
        if turns > 0:
            asyncio.get_running_loop().call_soon(self._settle, turns - 1)
            return
        self._settling = False
        when = self._deadlines[0][0]
        self._now = max(self._now, when)
        self.jumps += 1
        while self._deadlines and self._deadlines[0][0] <= self._now:
            _when, _n, future, task = heapq.heappop(self._deadlines)
            if not future.done():
                future.set_result(None)
                if task is not None:
                    self._idle.pop(task, None)
        self._poke()  # the woken may all be untracked: then the next jump needs no one
