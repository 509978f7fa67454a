"""Write-behind: what changes many times a second lives in memory and is written in batches.

Emotions, action records, learned values, skills, episodes, check samples and read-only audit
entries change far faster than a SQLite file should be written, so their owners only mark them
dirty and this flusher writes them every `flush_interval_s` (and on close). Every source speaks
one protocol, `DirtyRows`: `take_dirty()` hands over the rows changed since the last take (and
clears their flags), `write(rows)` stores them, `restore(rows)` marks them dirty again. A write
that fails, or is cancelled half-way, restores its rows and re-raises: nothing is ever lost, the
next flush tries again.

A failed flush (a file locked by another process for longer than the busy timeout, a full disk)
is logged on `webops.kernel` with its traceback and counted; the counts show in `webops status`.
The periodic flush then carries on; whoever asked for a flush (`webops audit`) gets the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

logger = logging.getLogger("webops.kernel")

Row = TypeVar("Row")


class DirtyRows(Protocol[Row]):
    """Something in memory whose changes are written later, in batches."""

    def take_dirty(self) -> list[Row]:
        """The rows changed since the last take; from now on they count as clean."""

    def restore(self, rows: list[Row]) -> None:
        """Writing `rows` failed: mark them dirty again (newer changes win over them)."""

    async def write(self, rows: list[Row]) -> None: ...


class Flushable(Protocol):
    """One step of a flush; it must keep what it could not write (the message bus does so
    itself, every other source through `Rows`)."""

    async def flush(self) -> object: ...


class Rows(Generic[Row]):
    """A `DirtyRows` source as a flush step: take, write, and restore on any failure."""

    def __init__(self, source: DirtyRows[Row]) -> None:
        self.source = source

    async def flush(self) -> None:
        rows = self.source.take_dirty()
        if not rows:
            return
        try:
            await self.source.write(rows)
        except BaseException:  # cancelled mid-write too: nothing may be lost
            self.source.restore(rows)
            raise


class WriteBehind:
    """Flushes its sources in order, now (`flush`) or periodically once started."""

    def __init__(self, sources: Sequence[Flushable], interval_s: Callable[[], float]) -> None:
        self.sources = list(sources)
        self._interval_s = interval_s
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.errors = 0
        self.last_error = ""
        #: `time.monotonic()` of the last error, to tell which of the kernel's errors is newest.
        self.last_error_at = -float("inf")
        #: `time.monotonic()` of the last flush that wrote everything (or found nothing to
        #: write); since construction until the first. `/api/health` and `/metrics` show its age.
        self.last_flush_at = time.monotonic()

    @property
    def flush_age_s(self) -> float:
        return time.monotonic() - self.last_flush_at

    @property
    def failing(self) -> bool:
        """Whether the newest flush failed (its rows wait in memory for the next one)."""
        return self.last_error_at > self.last_flush_at

    async def flush(self) -> None:
        """Write everything dirty, source by source; the first failure stops it and raises
        (the failed source keeps its rows, the later ones were not taken). A failure is logged
        and counted here, whoever asked for the flush."""
        async with self._lock:
            try:
                for source in self.sources:
                    await source.flush()
                self.last_flush_at = time.monotonic()
            except Exception as exc:  # not a cancellation: that is no failure of the file
                self.errors += 1
                self.last_error = str(exc) or type(exc).__name__
                self.last_error_at = time.monotonic()
                logger.exception("write-behind flush failed; the changes stay in memory")
                raise

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="kernel:flush")

    async def stop(self) -> None:
        """End the periodic flush; a flush under way finishes, it is never cut mid-write."""
        if self._task is not None:
            self._stopping.set()
            await self._task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval_s())
            with contextlib.suppress(Exception):  # logged and counted; retried next time
                await self.flush()
