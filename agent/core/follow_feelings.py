"""Agents' feelings another process stored, told on this kernel's bus (part of `Follower`).

A worker on another node appraises an incident and its agent's emotions move; it stores them
(`emotions`, `emotions_at` on the agent's row) when it flushes. Here each read compares every
agent's stored as-of time with the last one seen (three columns of a table of a few agents)
and publishes `EmotionsChanged` for the ones another process wrote, so the Team panel shows
the other node's feelings.

Never this process's own: an agent whose feelings changed here since the last read is
skipped (its own events are newer than what is stored), and so is a row that holds exactly
what this process's copy of the agent would write (its own flush). An agent loaded here takes
the stored feelings into its mind, so the gauges and the mood it shows are the other node's.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from agent.events import EmotionsChanged, KernelEvent
from agent.mind.profile import stored_mind
from storage.repositories.agents import AgentRepository

if TYPE_CHECKING:
    from agent.core.kernel import Kernel

#: What a follower read: (name, emotions JSON, as-of time) per agent.
Feelings = list[tuple[str, str, float]]


class FollowedFeelings:
    """The stored as-of time of each agent's feelings, as last seen."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.rows = AgentRepository(kernel.database)
        self._seen: dict[str, float] = {}
        #: Agents whose feelings changed in this process since the last read.
        self._felt_here: set[str] = set()

    async def seek(self) -> None:
        self._seen = {name: at for name, _, at in await self.rows.feelings()}
        self._felt_here.clear()

    def heard(self, event: KernelEvent) -> None:
        if isinstance(event, EmotionsChanged) and event.agent:
            self._felt_here.add(event.agent)

    async def fetch(self) -> Feelings:
        return await self.rows.feelings()

    async def publish(self, rows: Feelings) -> None:
        """Say the feelings another process stored since the last read."""
        felt_here, self._felt_here = self._felt_here, set()
        for name, emotions, at in rows:
            if self._seen.get(name) == at:
                continue
            self._seen[name] = at
            if name in felt_here:
                continue
            await self._tell(name, emotions, at)

    async def _tell(self, name: str, emotions: str, at: float) -> None:
        loaded = self.kernel.loaded(name)
        if loaded is not None:
            if loaded.mind.to_json() == emotions:  # this process's own flush
                return
            loaded.mind.take(json.loads(emotions), at)
            mind = loaded.mind
        else:
            row = await self.rows.get(name)
            if row is None:  # deleted meanwhile
                return
            adaptive = self.kernel.config.adapt_personality
            mind = stored_mind(row, self.kernel.clock, adaptive=adaptive)
        self.kernel.bus.publish(
            EmotionsChanged(
                agent=name,
                emotions=mind.as_dict(),
                mood=mind.mood(),
                cause="stored by another process",
                ts=at,
            )
        )
