"""A value read from the database that is trusted for a while, refreshed by one caller at a time.

Hot paths (every API request checks its token; every status counts memories; every chat turn
looks at the targets) must see another process's changes soon, but not within the millisecond.
When the value goes stale under load, exactly one caller reads it again and the others wait for
that read instead of each running their own (a stampede that once stalled the API for 100 ms
every second).

A change this process knows of (`invalidate`, `adjust`) starts a new generation: a read that
began before it may not have seen the change, so its result is not kept and nobody new joins it.

A value read on every request (the targets, the agents' names, the pending approvals, a token)
may also be served a little stale (`serve_stale_s`): past its age the first caller starts the
read and everyone, that caller included, goes on with the value kept while the read runs. Under
load a read takes several turns of a busy loop (tens of milliseconds), and 50 clients that all
waited on it once a second per cached value were the slowest 5% of chat turns. A value older
than `max_age_s + serve_stale_s` (after a quiet spell) is waited for as before, and a change this
process knows of is never served stale.

Ages are measured on an injected clock (agent/clock.py; the real one by default), so a test can
let a value go stale without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from agent.clock import SYSTEM, Clock

T = TypeVar("T")

logger = logging.getLogger("webops.kernel")


class Fresh(Generic[T]):
    def __init__(
        self,
        load: Callable[[], Awaitable[T]],
        max_age_s: float,
        clock: Clock = SYSTEM,
        *,
        serve_stale_s: float = 0.0,
    ) -> None:
        self._load = load
        self.max_age_s = max_age_s
        #: How much older than `max_age_s` a kept value may be handed out while it is read again.
        self.serve_stale_s = serve_stale_s
        self._monotonic = clock.monotonic
        #: The value and when its read started; None until a read is kept.
        self._kept: tuple[T] | None = None
        self._at = -float("inf")
        self._generation = 0
        self._inflight: asyncio.Future[T] | None = None
        self._inflight_generation = -1

    async def get(self) -> T:
        age = self._monotonic() - self._at
        if self._kept is not None and age <= self.max_age_s:
            return self._kept[0]
        if self._inflight is None or self._inflight_generation != self._generation:
            self._inflight_generation = self._generation
            self._inflight = asyncio.ensure_future(self._refresh(self._generation))
            self._inflight.add_done_callback(_retrieve)
        if self._kept is not None and age <= self.max_age_s + self.serve_stale_s:
            return self._kept[0]  # the read goes on without us; the next callers get its value
        # Shielded: a caller that gives up (a client gone) does not cancel the others' read.
        return await asyncio.shield(self._inflight)

    async def _refresh(self, generation: int) -> T:
        try:
            started = self._monotonic()
            value = await self._load()
            if generation == self._generation:
                self._kept, self._at = (value,), started
            return value
        finally:
            if self._inflight_generation == generation:
                self._inflight = None

    def adjust(self, change: Callable[[T], T]) -> None:
        """Apply a change this process made to the cached value, if there is one."""
        self._generation += 1
        if self._at > -float("inf") and self._kept is not None and self._kept[0] is not None:
            self._kept = (change(self._kept[0]),)

    def invalidate(self) -> None:
        self._generation += 1
        self._at = -float("inf")

    async def reload(self) -> T:
        """Read again now, whatever the age: for a change this caller knows has happened."""
        self.invalidate()
        return await self.get()


def _retrieve(read: asyncio.Future[Any]) -> None:
    """A read nobody waited for (everyone was served the kept value) that failed is logged,
    not left as "exception was never retrieved"; the next caller past the age reads again."""
    if not read.cancelled() and (exc := read.exception()) is not None:
        logger.warning("a cached value could not be read again: %s", exc)
