"""Episodic memory: what happened to one agent, remembered at once and written behind.

Episodes are numbered from id blocks reserved in the database, added to the in-memory recall
index at once and kept as pending rows that the kernel's write-behind flush stores in bulk, so
remembering costs microseconds. Every read (recall, recent, lookup, count) sees the pending rows
as well as the stored ones. The recall index is loaded lazily, once, on the first recall, and
kept in step from then on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.errors import NotFound
from agent.fresh import Fresh
from agent.memory.backend import COUNTS_TTL_S, MemoryBackend
from agent.memory.items import MemoryItem
from agent.memory.listing import episode_item
from agent.memory.reflection import EpisodeView
from storage.repositories.episodes import EpisodeTuple

if TYPE_CHECKING:  # numpy is imported only once memory is really used (not by `webops status`)
    from agent.memory.recall import EpisodeIndex, RecallWeights
    from agent.memory.recall_ivf import QuantizedIndex

#: Episodes older than this lose their details when the agent consolidates.
COMPRESS_AFTER_S = 24 * 3600.0
#: Kinds of episode that recall can keep to (`recall_similar(kind=...)`), as the recall
#: index's row tags: before choosing a remedy an agent recalls its remedies, not its checks.
TAGS = {"remedy": 1}
#: An agent with at least this many episodes stored gets the int8 inverted-file index
#: (`QuantizedIndex`: a quarter of the memory, a fraction of the work per recall); below it,
#: the float32 `EpisodeIndex` scores every row (98 MB and ~3 ms at 100,000).
QUANTIZE_FROM = 100_000


@dataclass(frozen=True)
class _Row:
    """An episode as read back, from a pending tuple or from the file."""

    id: int
    kind: str
    summary: str
    details: str | None
    ts: float
    situation: str | None


def _pending_row(row: EpisodeTuple) -> _Row:
    return _Row(row[0], row[2], row[4], row[5], row[8], row[3])


class EpisodicMemory:
    """One agent's episodes: remember, write behind, recall, look up, count, consolidate."""

    def __init__(self, agent_id: int, backend: MemoryBackend) -> None:
        self.agent_id = agent_id
        self._b = backend
        #: Remembered but not yet stored, in `EPISODE_COLUMNS` order; see `take_pending`.
        self._pending: list[EpisodeTuple] = []
        self._index: EpisodeIndex | QuantizedIndex | None = None
        #: Episodes stored in the file; see `_read_count`.
        self._count = Fresh(self._read_count, COUNTS_TTL_S)

    async def remember(
        self,
        kind: str,
        summary: str,
        *,
        importance: float,
        details: dict[str, Any] | None = None,
        situation: str | None = None,
    ) -> EpisodeView:
        """Store an episode: in the recall index now, in the file on the next flush."""
        episode_id = await self._b.ids.next()
        now = self._b.clock()
        importance = float(min(1.0, max(0.0, importance)))
        vector = self._b.embedder.embed(summary)
        details_json = json.dumps(details, default=str) if details else None
        self._pending.append(
            (
                episode_id,
                self.agent_id,
                kind,
                situation,
                summary,
                details_json,
                importance,
                vector.tobytes(),
                now,
                0,
            )
        )
        if self._index is not None:
            self._index.add(episode_id, vector, now, importance, TAGS.get(kind, 0))
            if len(self._index) >= QUANTIZE_FROM and not self._index.quantized:
                from agent.memory.recall import EpisodeIndex  # loaded with the index

                assert isinstance(self._index, EpisodeIndex)
                self._index = _quantized(self._index)
        return EpisodeView(episode_id, kind, summary, importance, now, situation, details or {})

    # -- the write-behind ------------------------------------------------------------------

    def take_pending(self) -> list[EpisodeTuple]:
        """The rows to store now; they count as stored from here on."""
        rows, self._pending = self._pending, []
        self._count_stored(len(rows))
        return rows

    def restore_pending(self, rows: list[EpisodeTuple]) -> None:
        """Put back rows a failed flush could not write; they go out with the next one."""
        self._pending = rows + self._pending
        self._count_stored(-len(rows))

    def _count_stored(self, episodes: int) -> None:
        self._count.adjust(lambda c: c + episodes)

    async def _read_count(self) -> int:
        """Episodes in the file.

        Status is asked for often (the API, the gauges), and COUNT queries cost more than the
        rest of it together: the count is kept for `COUNTS_TTL_S`. What this process writes is
        counted at once; another process's writes show within `COUNTS_TTL_S`.
        """
        return await self._b.episodes.count(self.agent_id)

    async def count(self) -> int:
        if self._index is not None:
            return len(self._index)
        return await self._count.get() + len(self._pending)

    # -- recall ----------------------------------------------------------------------------

    async def index(self) -> EpisodeIndex | QuantizedIndex:
        """The recall index, loaded from the file once and kept in step from then on."""
        if self._index is None:
            import numpy as np

            stored = await self._b.episodes.count(self.agent_id)
            if stored >= QUANTIZE_FROM:
                index: EpisodeIndex | QuantizedIndex = await self._load_quantized(stored)
            else:
                index = await self._load_exact()
            dim = self._b.embedder.dim
            for row in self._pending:
                if row[0] not in index:
                    vector = np.frombuffer(row[7], dtype=np.float32)
                    index.add(row[0], vector.reshape(dim), row[8], row[6], TAGS.get(row[2], 0))
            self._index = index
        return self._index

    async def _load_exact(self) -> EpisodeIndex:
        import numpy as np

        from agent.memory.recall import EpisodeIndex

        columns = await self._b.episodes.load_columns(self.agent_id)
        index = EpisodeIndex(self._b.embedder.dim, capacity=max(1024, len(columns.ids) * 2))
        if columns.ids:
            matrix = np.frombuffer(b"".join(columns.embeddings), dtype=np.float32)
            index.extend(
                columns.ids,
                matrix.reshape(len(columns.ids), self._b.embedder.dim),
                columns.ts,
                columns.importance,
                [TAGS.get(k, 0) for k in columns.kinds],
            )
        return index

    async def _load_quantized(self, stored: int) -> QuantizedIndex:
        """Read a block of float32 embeddings at a time and keep them as int8: a million
        episodes never pass through memory as one 1 GB float32 array."""
        import numpy as np

        from agent.memory.recall_ivf import QuantizedIndex

        dim = self._b.embedder.dim
        index = QuantizedIndex(dim, capacity=stored + stored // 4)
        async for columns in self._b.episodes.load_column_blocks(self.agent_id):
            matrix = np.frombuffer(b"".join(columns.embeddings), dtype=np.float32)
            index.extend(
                columns.ids,
                matrix.reshape(len(columns.ids), dim),
                columns.ts,
                columns.importance,
                [TAGS.get(k, 0) for k in columns.kinds],
            )
        return index

    async def recall_similar(
        self,
        context: str,
        limit: int = 10,
        weights: RecallWeights | None = None,
        kind: str | None = None,
    ) -> list[MemoryItem]:
        """Episodes ranked by relevance, recency and importance (Park et al. 2023); only those
        of `kind` (one of `TAGS`) when it is given."""
        from agent.memory.recall import RecallWeights

        with self._b.recall_timings.timed():
            index = await self.index()
            hits = index.search(
                self._b.embedder.embed(context),
                self._b.clock(),
                limit,
                weights or RecallWeights(),
                tag=None if kind is None else TAGS[kind],
            )
            rows = {r.id: r for r in await self._rows([h.id for h in hits])}
        return [episode_item(rows[h.id], round(h.score, 4)) for h in hits if h.id in rows]

    async def recent(self, limit: int = 50) -> list[MemoryItem]:
        rows = sorted(await self._rows_recent(limit), key=lambda r: r.ts, reverse=True)[:limit]
        return [episode_item(r, None) for r in rows]

    async def episode(self, episode_id: int) -> MemoryItem:
        rows = await self._rows([episode_id])
        if not rows:
            raise NotFound(f"no episode with id {episode_id}")
        return episode_item(rows[0], None)

    async def _rows(self, ids: Sequence[int]) -> list[_Row]:
        wanted = set(ids)
        found = {row[0]: _pending_row(row) for row in self._pending if row[0] in wanted}
        missing = [i for i in ids if i not in found]
        if missing:
            for r in await self._b.episodes.get(missing):
                found[r.id] = _Row(r.id, r.kind, r.summary, r.details, r.ts, r.situation)
        return [found[i] for i in ids if i in found]

    async def _rows_recent(self, limit: int) -> list[_Row]:
        pending = [_pending_row(r) for r in self._pending[-limit:]]
        stored = [
            _Row(r.id, r.kind, r.summary, r.details, r.ts, r.situation)
            for r in await self._b.episodes.recent(self.agent_id, limit)
        ]
        return pending + stored

    # -- consolidation ---------------------------------------------------------------------

    async def compress_and_trim(self, max_episodes: int) -> tuple[int, int]:
        """Drop old episodes' details and keep at most `max_episodes`, those not yet written
        included: (compressed, trimmed)."""
        now = self._b.clock()
        compressed = await self._b.episodes.compress(self.agent_id, now - COMPRESS_AFTER_S)
        keep = max(0, max_episodes - len(self._pending))
        trimmed = await self._b.episodes.trim(self.agent_id, keep)
        if trimmed and self._index is not None:
            self._index.remove(trimmed)
        self._count.invalidate()  # trimmed episodes: count them again
        return compressed, len(trimmed)


def _quantized(exact: EpisodeIndex) -> QuantizedIndex:
    """The same rows as int8 in an inverted file, once an agent's memory grew past
    `QUANTIZE_FROM` in this process (a one-off ~0.2 s; the next recall builds the lists)."""
    from agent.memory.recall_ivf import QuantizedIndex

    ids, vectors, ts, importance, tags = exact.columns()
    index = QuantizedIndex(exact.dim, capacity=2 * len(ids))
    for start in range(0, len(ids), 32_768):
        block = slice(start, start + 32_768)
        index.extend(ids[block], vectors[block], ts[block], importance[block], tags[block])
    return index
