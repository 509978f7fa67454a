"""An agent's memory: episodic (with recall), semantic facts, procedures, and learned values.

Episodes are numbered from id blocks reserved in the database, added to the in-memory recall
index at once, and written in bulk by the kernel's write-behind flush, so remembering costs
microseconds. The index is loaded lazily, once, on the first recall.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from agent.errors import InvalidInput, NotFound
from agent.fresh import Fresh
from agent.memory.learning import ActionValues, ArmStats
from agent.memory.procedures import Procedure, Step, best_procedure, optimize
from agent.memory.reflection import EpisodeView, Insight, merge_confidence, reflect
from storage.repositories.action_values import ActionValueRepository
from storage.repositories.episodes import EpisodeRepository
from storage.repositories.facts import FactRepository
from storage.repositories.procedures import ProcedureRepository
from storage.tables import ActionValueRow, FactRow, ProcedureRow

if TYPE_CHECKING:  # numpy is imported only once memory is really used (not by `webops status`)
    from agent.memory.embedding import Embedder
    from agent.memory.recall import EpisodeIndex, RecallWeights

MemoryKind = Literal["episodic", "semantic", "procedural"]
KINDS: tuple[MemoryKind, ...] = ("episodic", "semantic", "procedural")

#: Importance gathered since the last reflection that makes the agent reflect.
REFLECTION_THRESHOLD = 8.0
#: Episodes older than this lose their details when the agent consolidates.
COMPRESS_AFTER_S = 24 * 3600.0
ID_BLOCK = 1024
#: How long counts read from the file are trusted (other processes may write to it).
COUNTS_TTL_S = 1.0


class MemoryItem(BaseModel):
    """`webops memory --json` rows and the memory browser's lines."""

    model_config = ConfigDict(frozen=True)

    kind: MemoryKind
    id: int
    summary: str
    score: float | None = None
    ts: datetime
    details: dict[str, Any] | None = None
    sources: list[int] = []


class ConsolidationReport(BaseModel):
    insights: int
    compressed: int
    trimmed: int
    optimized: int


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

    @property
    def embedder(self) -> Embedder:
        """The default hashing embedder, made (and numpy imported) on first use."""
        if self._embedder is None:
            from agent.memory.embedding import HashingEmbedder

            self._embedder = HashingEmbedder()
        return self._embedder


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


class AgentMemory:
    def __init__(
        self,
        agent_id: int,
        backend: MemoryBackend,
        learner: ActionValues,
        *,
        max_episodes: int,
        importance_since_reflection: float = 0.0,
    ) -> None:
        self.agent_id = agent_id
        self._b = backend
        self.learner = learner
        self.max_episodes = max_episodes
        self.importance_since_reflection = importance_since_reflection
        self.reflection_dirty = False
        self._pending: list[tuple[Any, ...]] = []
        self._index: EpisodeIndex | None = None
        self._since_reflection: deque[EpisodeView] = deque(maxlen=4000)
        self._procedures: list[Procedure] | None = None
        #: (episodes, facts) as stored in the file; see `_read_counts`.
        self._counts = Fresh(self._read_counts, COUNTS_TTL_S)
        self.episodes_added = 0

    # -- episodic --------------------------------------------------------------------------

    async def remember(
        self,
        kind: str,
        summary: str,
        *,
        importance: float,
        details: dict[str, Any] | None = None,
        situation: str | None = None,
    ) -> int:
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
            self._index.add(episode_id, vector, now, importance)
        self._since_reflection.append(
            EpisodeView(episode_id, kind, summary, importance, now, situation, details or {})
        )
        self.importance_since_reflection += importance
        self.reflection_dirty = True
        self.episodes_added += 1
        return episode_id

    def take_pending(self) -> list[tuple[Any, ...]]:
        rows, self._pending = self._pending, []
        self._count_stored(len(rows))
        return rows

    def restore_pending(self, rows: list[tuple[Any, ...]]) -> None:
        """Put back rows a failed flush could not write; they go out with the next one."""
        self._pending = rows + self._pending
        self._count_stored(-len(rows))

    def _count_stored(self, episodes: int) -> None:
        self._counts.adjust(lambda c: (c[0] + episodes, c[1]))

    async def _read_counts(self) -> tuple[int, int]:
        """Episodes and facts in the file.

        Status is asked for often (the API, the gauges), and two COUNT queries cost more than
        the rest of it together: they are kept for `COUNTS_TTL_S`. What this process writes is
        counted at once; another process's writes show within `COUNTS_TTL_S`.
        """
        return (
            await self._b.episodes.count(self.agent_id),
            await self._b.facts.count(self.agent_id),
        )

    async def index(self) -> EpisodeIndex:
        """The recall index, loaded from the file once and kept in step from then on."""
        if self._index is None:
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
                )
            stored = set(columns.ids)
            for row in self._pending:
                if row[0] not in stored:
                    index.add(row[0], np.frombuffer(row[7], dtype=np.float32), row[8], row[6])
            self._index = index
        return self._index

    async def count_episodes(self) -> int:
        if self._index is not None:
            return len(self._index)
        return (await self._counts.get())[0] + len(self._pending)

    async def recall_similar(
        self, context: str, limit: int = 10, weights: RecallWeights | None = None
    ) -> list[MemoryItem]:
        """Episodes ranked by relevance, recency and importance (Park et al. 2023)."""
        from agent.memory.recall import RecallWeights

        index = await self.index()
        hits = index.search(
            self._b.embedder.embed(context), self._b.clock(), limit, weights or RecallWeights()
        )
        rows = {r.id: r for r in await self._episode_rows([h.id for h in hits])}
        return [self._episode_item(rows[h.id], round(h.score, 4)) for h in hits if h.id in rows]

    async def recent_episodes(self, limit: int = 50) -> list[MemoryItem]:
        rows = sorted(await self._episode_rows_recent(limit), key=lambda r: r.ts, reverse=True)[
            :limit
        ]
        return [self._episode_item(r, None) for r in rows]

    async def episode(self, episode_id: int) -> MemoryItem:
        rows = await self._episode_rows([episode_id])
        if not rows:
            raise NotFound(f"no episode with id {episode_id}")
        return self._episode_item(rows[0], None)

    @dataclass(frozen=True)
    class _Row:
        id: int
        kind: str
        summary: str
        details: str | None
        ts: float
        situation: str | None

    async def _episode_rows(self, ids: Sequence[int]) -> list[AgentMemory._Row]:
        wanted = set(ids)
        found = {
            row[0]: self._Row(row[0], row[2], row[4], row[5], row[8], row[3])
            for row in self._pending
            if row[0] in wanted
        }
        missing = [i for i in ids if i not in found]
        if missing:
            for r in await self._b.episodes.get(missing):
                found[r.id] = self._Row(r.id, r.kind, r.summary, r.details, r.ts, r.situation)
        return [found[i] for i in ids if i in found]

    async def _episode_rows_recent(self, limit: int) -> list[AgentMemory._Row]:
        pending = [self._Row(r[0], r[2], r[4], r[5], r[8], r[3]) for r in self._pending[-limit:]]
        stored = [
            self._Row(r.id, r.kind, r.summary, r.details, r.ts, r.situation)
            for r in await self._b.episodes.recent(self.agent_id, limit)
        ]
        return pending + stored

    @staticmethod
    def _episode_item(row: AgentMemory._Row, score: float | None) -> MemoryItem:
        details = json.loads(row.details) if row.details else None
        if details is not None and row.situation:
            details.setdefault("situation", row.situation)
        return MemoryItem(
            kind="episodic",
            id=row.id,
            summary=f"[{row.kind}] {row.summary}",
            score=score,
            ts=_ts(row.ts),
            details=details,
        )

    # -- reflection and semantic memory ----------------------------------------------------

    @property
    def reflection_due(self) -> bool:
        return self.importance_since_reflection >= REFLECTION_THRESHOLD

    async def reflect(self) -> list[MemoryItem]:
        """Turn the episodes since the last reflection into facts (with their sources)."""
        insights = reflect(list(self._since_reflection))
        self._since_reflection.clear()
        self.importance_since_reflection = 0.0
        self.reflection_dirty = True
        return [await self.update_fact(i) for i in insights]

    async def store_fact(
        self,
        subject: str,
        predicate: str,
        value: str,
        confidence: float,
        sources: Sequence[int] = (),
    ) -> MemoryItem:
        """Write a fact as given, replacing what was known about subject+predicate."""
        if not subject.strip() or not predicate.strip():
            raise InvalidInput("a fact needs a subject and a predicate")
        row = await self._b.facts.upsert(
            self.agent_id,
            subject,
            predicate,
            value,
            float(min(1.0, max(0.0, confidence))),
            list(sources),
            1,
            self._b.clock(),
        )
        self._counts.invalidate()  # a new fact or a revised one: count them again
        return self._fact_item(row, None)

    async def update_fact(self, insight: Insight) -> MemoryItem:
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
            sources = list(dict.fromkeys([*json.loads(old.sources), *insight.sources]))[-50:]
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
        self._counts.invalidate()  # a new fact or a revised one: count them again
        return self._fact_item(row, None)

    async def query_facts(
        self, subject: str | None = None, text: str | None = None, limit: int = 20
    ) -> list[MemoryItem]:
        """Facts about a subject, or ranked by similarity of their text to `text`."""
        rows = await self._b.facts.list(self.agent_id, subject)
        if not text:
            return [self._fact_item(r, None) for r in rows[:limit]]
        query = self._b.embedder.embed(text)
        texts = [f"{r.subject} {r.predicate.replace('_', ' ')} {r.value}" for r in rows]
        if not texts:
            return []
        import numpy as np

        scores = self._b.embedder.embed_many(texts) @ query
        order = np.argsort(-scores)[:limit]
        return [self._fact_item(rows[i], round(float(scores[i]), 4)) for i in order]

    async def count_facts(self) -> int:
        return (await self._counts.get())[1]

    @staticmethod
    def _fact_item(row: FactRow, score: float | None) -> MemoryItem:
        assert row.id is not None
        return MemoryItem(
            kind="semantic",
            id=row.id,
            summary=f"{row.subject} {row.predicate.replace('_', ' ')} {row.value} "
            f"(confidence {row.confidence:.2f})",
            score=score,
            ts=_ts(row.updated_at),
            details={
                "subject": row.subject,
                "predicate": row.predicate,
                "value": row.value,
                "confidence": row.confidence,
                "evidence": row.evidence,
            },
            sources=json.loads(row.sources),
        )

    # -- procedural memory -----------------------------------------------------------------

    async def procedures(self) -> list[Procedure]:
        if self._procedures is None:
            rows = await self._b.procedures.list(self.agent_id, include_inactive=True)
            self._procedures = [self._procedure(r) for r in rows]
        return self._procedures

    async def best_procedure(self, situation: str) -> Procedure | None:
        return best_procedure(await self.procedures(), situation)

    async def store_procedure(
        self, situation: str, steps: Sequence[Step], sources: Sequence[int] = ()
    ) -> Procedure:
        """Keep a sequence of steps that worked; the same steps again reuse the stored one."""
        known = await self.procedures()
        signature = tuple(s.action for s in steps)
        for procedure in known:
            if (
                procedure.active
                and procedure.situation == situation
                and (procedure.signature == signature)
            ):
                return procedure
        procedure = Procedure(situation=situation, steps=list(steps), sources=list(sources))
        return await self._insert_procedure(procedure)

    async def _insert_procedure(self, procedure: Procedure) -> Procedure:
        now = self._b.clock()
        row = await self._b.procedures.add(
            ProcedureRow(
                agent_id=self.agent_id,
                situation=procedure.situation,
                steps=json.dumps([s.as_dict() for s in procedure.steps]),
                version=procedure.version,
                parent_id=procedure.parent_id,
                successes=procedure.successes,
                failures=procedure.failures,
                sources=json.dumps(procedure.sources[-50:]),
                created_at=now,
                updated_at=now,
            )
        )
        procedure.id = row.id
        (await self.procedures()).append(procedure)
        return procedure

    async def save_procedure_stats(self, procedure: Procedure) -> None:
        assert procedure.id is not None
        await self._b.procedures.save_stats(
            procedure.id,
            json.dumps([s.as_dict() for s in procedure.steps]),
            procedure.successes,
            procedure.failures,
            self._b.clock(),
        )

    async def optimize_procedure(self, procedure: Procedure) -> Procedure | None:
        """Store a better version (old one kept, inactive); None when nothing improved."""
        better = optimize(procedure)
        if better is None:
            return None
        assert procedure.id is not None
        await self._b.procedures.deactivate(procedure.id, self._b.clock())
        procedure.active = False
        return await self._insert_procedure(better)

    async def count_procedures(self) -> int:
        return sum(1 for p in await self.procedures() if p.active)

    @staticmethod
    def _procedure(row: ProcedureRow) -> Procedure:
        return Procedure(
            situation=row.situation,
            steps=[Step.from_dict(s) for s in json.loads(row.steps)],
            id=row.id,
            version=row.version,
            parent_id=row.parent_id,
            active=bool(row.active),
            successes=row.successes,
            failures=row.failures,
            sources=json.loads(row.sources),
        )

    def procedure_items(self, procedures: Sequence[Procedure]) -> list[MemoryItem]:
        items = []
        for p in procedures:
            assert p.id is not None
            state = "" if p.active else " (superseded)"
            items.append(
                MemoryItem(
                    kind="procedural",
                    id=p.id,
                    summary=f"{p.situation}: {' -> '.join(p.signature)} v{p.version}{state}, "
                    f"{p.successes} ok / {p.failures} failed",
                    ts=_ts(self._b.clock()),
                    details={
                        "situation": p.situation,
                        "steps": [s.as_dict() for s in p.steps],
                        "version": p.version,
                        "parent_id": p.parent_id,
                        "active": p.active,
                        "success_rate": round(p.success_rate, 3),
                    },
                    sources=p.sources,
                )
            )
        return items

    # -- learned values --------------------------------------------------------------------

    def dirty_values(self) -> list[ActionValueRow]:
        rows = []
        now = self._b.clock()
        for (situation, action), arm in self.learner.arms.items():
            if arm.dirty:
                arm.dirty = False
                rows.append(
                    ActionValueRow(
                        agent_id=self.agent_id,
                        situation=situation,
                        action=action,
                        value=arm.value,
                        own_pulls=arm.own,
                        observed_pulls=arm.observed,
                        updated_at=now,
                    )
                )
        return rows

    @staticmethod
    def learner_from(
        rows: Sequence[ActionValueRow], exploration: float, rng: random.Random | None = None
    ) -> ActionValues:
        learner = ActionValues(exploration, rng)
        for r in rows:
            learner.arms[(r.situation, r.action)] = ArmStats(r.value, r.own_pulls, r.observed_pulls)
        return learner

    # -- consolidation ---------------------------------------------------------------------

    async def consolidate(self) -> ConsolidationReport:
        """Reflect, compress old episodes, enforce the retention cap, tidy procedures."""
        insights = len(await self.reflect()) if self._since_reflection else 0
        now = self._b.clock()
        compressed = await self._b.episodes.compress(self.agent_id, now - COMPRESS_AFTER_S)
        trimmed = await self._b.episodes.trim(self.agent_id, self.max_episodes)
        if trimmed and self._index is not None:
            self._index.remove(trimmed)
        optimized = 0
        for procedure in [p for p in await self.procedures() if p.active]:
            if await self.optimize_procedure(procedure) is not None:
                optimized += 1
        self._counts.invalidate()  # trimmed episodes, merged facts: count them again
        return ConsolidationReport(
            insights=insights, compressed=compressed, trimmed=len(trimmed), optimized=optimized
        )
