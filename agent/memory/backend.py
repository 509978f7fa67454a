"""What every agent's memory shares: the repositories, episode ids, the embedder and the clock.

The kernel makes one `MemoryBackend` and hands it to each agent's memory, so the three kinds of
memory (`episodic`, `semantic`, `procedural`) reach the database the same way and a test can
give them a fake clock in one place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.memory.recall_timing import RecallTimings
from storage.repositories.action_values import ActionValueRepository
from storage.repositories.episodes import EpisodeRepository
from storage.repositories.facts import FactRepository
from storage.repositories.procedures import ProcedureRepository

if TYPE_CHECKING:  # numpy is imported only once memory is really used (not by `webops status`)
    from agent.memory.embedding import Embedder

#: Episode ids reserved from the database at a time.
ID_BLOCK = 1024
#: How long counts read from the file are trusted (other processes may write to it).
COUNTS_TTL_S = 1.0


class IdAllocator:
    """Hands out episode ids from blocks reserved in the database (unique across processes)."""

    def __init__(self, episodes: EpisodeRepository, block: int = ID_BLOCK) -> None:
        self._episodes = episodes
        self._block = block
        self._ids: range = range(0)
        self._next = 0
        self._reserving = asyncio.Lock()

    async def next(self) -> int:
        while self._next >= len(self._ids):
            # One reservation at a time: when a block runs out under load, every caller would
            # otherwise reserve its own (a write each, in a queue: the API stalled on them).
            async with self._reserving:
                if self._next >= len(self._ids):
                    self._ids = await self._episodes.reserve_ids(self._block)
                    self._next = 0
        value = self._ids[self._next]
        self._next += 1
        return value


@dataclass
class MemoryBackend:
    """What every agent's memory shares: repositories, ids, the embedder and the clock."""

    episodes: EpisodeRepository
    facts: FactRepository
    procedures: ProcedureRepository
    values: ActionValueRepository
    ids: IdAllocator
    clock: Callable[[], float]
    _embedder: Embedder | None = None
    #: How long every agent's recalls took (read by the API's `/metrics`).
    recall_timings: RecallTimings = field(default_factory=RecallTimings)

    @property
    def embedder(self) -> Embedder:
        """The default hashing embedder, made (and numpy imported) on first use."""
        if self._embedder is None:
            from agent.memory.embedding import HashingEmbedder

            self._embedder = HashingEmbedder()
        return self._embedder
