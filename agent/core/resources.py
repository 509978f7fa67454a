"""Resource limits per agent: concurrent actions, actions per minute, episodes kept, timeouts.

`allocate` refuses past a limit and says which; `monitor` reports usage against the limits.
The clock is injectable so the per-minute window is testable without sleeping. Episodes are
counted by the agent's memory, not here (a counter kept here was never told of one, and
`status` showed 0): `monitor` takes the memory's count.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pydantic import BaseModel, ConfigDict, Field

from agent.errors import OperationFailed


class ResourceLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_concurrent_actions: int = Field(4, ge=1)
    actions_per_minute: int = Field(600, ge=1)
    max_episodes: int = Field(50_000, ge=100)
    action_timeout_s: float = Field(30.0, gt=0)


class ResourceUsage(BaseModel):
    running_actions: int
    actions_last_minute: int
    episodes: int
    limits: ResourceLimits
    #: Messages waiting in the agent's mailbox; a full one makes senders wait (back-pressure).
    mailbox: int = 0


class ResourceExhausted(OperationFailed):
    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


class Resources:
    def __init__(self, limits: ResourceLimits, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self._clock = clock
        self._running = 0
        self._recent: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._recent and now - self._recent[0] >= 60.0:
            self._recent.popleft()

    @contextmanager
    def allocate(self) -> Iterator[None]:
        """Hold one action slot for the block; raise `ResourceExhausted` naming the limit."""
        now = self._clock()
        self._trim(now)
        if self._running >= self.limits.max_concurrent_actions:
            raise ResourceExhausted(
                "max_concurrent_actions",
                f"concurrent actions: {self._running} of {self.limits.max_concurrent_actions} "
                "already running",
            )
        if len(self._recent) >= self.limits.actions_per_minute:
            raise ResourceExhausted(
                "actions_per_minute",
                f"actions per minute: {len(self._recent)} of {self.limits.actions_per_minute} "
                "used in the last 60 s",
            )
        self._running += 1
        self._recent.append(now)
        try:
            yield
        finally:
            self._running -= 1

    def monitor(self, episodes: int = 0, mailbox: int = 0) -> ResourceUsage:
        """Usage now; `episodes` is the agent's memory's count, `mailbox` its queue's depth."""
        self._trim(self._clock())
        return ResourceUsage(
            running_actions=self._running,
            actions_last_minute=len(self._recent),
            episodes=episodes,
            limits=self.limits,
            mailbox=mailbox,
        )
