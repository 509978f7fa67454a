"""Semantic memory: what one agent knows, as facts (subject, predicate, value) with confidence.

Facts come from reflection (`agent.memory.reflection`) or are stored as given. New evidence is
merged into what is known: agreement raises the confidence, contradiction lowers it, and the
episodes a fact came from are kept as its sources. Facts are few, so they live in the file only
and are read when asked for.
"""

from __future__ import annotations

import json

from agent.fresh import Fresh
from agent.memory.backend import COUNTS_TTL_S, MemoryBackend
from agent.memory.items import MemoryItem
from agent.memory.listing import fact_item
from agent.memory.reflection import Insight, merge_confidence

#: Sources kept per fact (the newest).
MAX_SOURCES = 50


class SemanticMemory:
    """One agent's facts: store, merge new evidence, query, count."""

    def __init__(self, agent_id: int, backend: MemoryBackend) -> None:
        self.agent_id = agent_id
        self._b = backend
        #: Facts stored in the file, kept for `COUNTS_TTL_S` (see `EpisodicMemory._read_count`).
        self._count = Fresh(self._read_count, COUNTS_TTL_S)

    async def update(self, insight: Insight) -> MemoryItem:
        """Merge new evidence into a fact: agreement raises confidence, contradiction lowers it."""
        known = await self._b.facts.list(self.agent_id, insight.subject)
        old = next((f for f in known if f.predicate == insight.predicate), None)
        if old is None:
            value, confidence, sources, evidence = (
                insight.value,
                insight.confidence,
                list(insight.sources),
                1,
            )
        else:
            value, confidence = merge_confidence(
                old.value, old.confidence, insight.value, insight.confidence
            )
            merged = [*json.loads(old.sources), *insight.sources]
            sources = list(dict.fromkeys(merged))[-MAX_SOURCES:]
            evidence = old.evidence + 1
        row = await self._b.facts.upsert(
            self.agent_id,
            insight.subject,
            insight.predicate,
            value,
            confidence,
            sources,
            evidence,
            self._b.clock(),
        )
        self.invalidate_count()  # a new fact or a revised one: count them again
        return fact_item(row, None)

    async def query(
        self, subject: str | None = None, text: str | None = None, limit: int = 20
    ) -> list[MemoryItem]:
        """Facts about a subject, or ranked by similarity of their text to `text`."""
        rows = await self._b.facts.list(self.agent_id, subject)
        if not text:
            return [fact_item(r, None) for r in rows[:limit]]
        query = self._b.embedder.embed(text)
        texts = [f"{r.subject} {r.predicate.replace('_', ' ')} {r.value}" for r in rows]
        if not texts:
            return []
        import numpy as np

        scores = self._b.embedder.embed_many(texts) @ query
        order = np.argsort(-scores)[:limit]
        return [fact_item(rows[i], round(float(scores[i]), 4)) for i in order]

    async def _read_count(self) -> int:
        return await self._b.facts.count(self.agent_id)

    async def count(self) -> int:
        return await self._count.get()

    def invalidate_count(self) -> None:
        self._count.invalidate()
