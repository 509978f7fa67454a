"""An agent's memory: episodic, semantic and procedural memory, learned values, and the wiring.

Each kind of memory is its own module with one job: `episodic` (what happened: remembered at
once, written behind, recalled by similarity), `semantic` (what is known: facts with
confidence) and `procedural` (how to fix things: versioned procedures). `AgentMemory` composes
them for one agent and adds what joins them: reflection (recent episodes become facts once
enough importance has gathered), consolidation (reflect, compress and cap episodes, tidy
procedures) and the learned action values (`learning.ActionValues`).

The names the kernel and the shells use (`AgentMemory`, `MemoryItem`, `MemoryKind`, `KINDS`,
`ConsolidationReport`, `IdAllocator`, `MemoryBackend`) are all importable from here.
"""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from agent.memory.backend import COUNTS_TTL_S, ID_BLOCK, IdAllocator, MemoryBackend
from agent.memory.episodic import COMPRESS_AFTER_S, EpisodicMemory
from agent.memory.items import KINDS, MemoryItem, MemoryKind, memory_kind
from agent.memory.learning import ActionValues, ArmStats
from agent.memory.precedents import FixFact, Precedents, RemedyMemory, precedents
from agent.memory.procedural import ProceduralMemory
from agent.memory.procedures import Procedure, Step
from agent.memory.reflection import EpisodeView, Insight, reflect
from agent.memory.semantic import SemanticMemory
from storage.repositories.episodes import EpisodeTuple
from storage.tables import ActionValueRow

if TYPE_CHECKING:  # numpy is imported only once memory is really used (not by `webops status`)
    from agent.memory.recall import EpisodeIndex, RecallWeights
    from agent.memory.recall_ivf import QuantizedIndex

__all__ = [
    "COMPRESS_AFTER_S",
    "COUNTS_TTL_S",
    "ID_BLOCK",
    "KINDS",
    "REFLECTION_THRESHOLD",
    "AgentMemory",
    "ConsolidationReport",
    "IdAllocator",
    "MemoryBackend",
    "MemoryItem",
    "MemoryKind",
    "memory_kind",
]

#: Importance gathered since the last reflection that makes the agent reflect.
REFLECTION_THRESHOLD = 8.0
#: Remedy episodes recalled before a decision: enough to span the similar situations.
RECALLED_REMEDIES = 64
#: A remedy episode's summary, for one whose details were compressed away.
_REMEDY = re.compile(r"^(?:\[remedy\] )?(\S+) (fixed|did not fix) (.+)$")


class ConsolidationReport(BaseModel):
    insights: int
    compressed: int
    trimmed: int
    optimized: int
    #: Each procedure given a better version, and why ("status=503: v2, dropped ...").
    changes: list[str] = []
    #: Episodes kept after the retention cap.
    episodes: int = 0
    #: Relationships (the whole team's) that faded for want of contact (set by the kernel).
    faded: int = 0


class AgentMemory:
    """One agent's memory: the three kinds, composed, with reflection and learned values."""

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
        self.episodic = EpisodicMemory(agent_id, backend)
        self.semantic = SemanticMemory(agent_id, backend)
        self.procedural = ProceduralMemory(agent_id, backend)
        self.learner = learner
        self.max_episodes = max_episodes
        self.importance_since_reflection = importance_since_reflection
        self.reflection_dirty = False
        self._since_reflection: deque[EpisodeView] = deque(maxlen=4000)
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
        """Store an episode (see `EpisodicMemory.remember`) and keep it for the next reflection."""
        episode = await self.episodic.remember(
            kind, summary, importance=importance, details=details, situation=situation
        )
        self._since_reflection.append(episode)
        self.importance_since_reflection += episode.importance
        self.reflection_dirty = True
        self.episodes_added += 1
        return episode.id

    def take_pending(self) -> list[EpisodeTuple]:
        return self.episodic.take_pending()

    def restore_pending(self, rows: list[EpisodeTuple]) -> None:
        """Put back rows a failed flush could not write; they go out with the next one."""
        self.episodic.restore_pending(rows)

    async def index(self) -> EpisodeIndex | QuantizedIndex:
        return await self.episodic.index()

    async def count_episodes(self) -> int:
        return await self.episodic.count()

    async def recall_similar(
        self,
        context: str,
        limit: int = 10,
        weights: RecallWeights | None = None,
        kind: str | None = None,
    ) -> list[MemoryItem]:
        """Episodes ranked by relevance, recency and importance (Park et al. 2023)."""
        return await self.episodic.recall_similar(context, limit, weights, kind)

    async def precedents(self, situation: str, candidates: Sequence[str]) -> Precedents:
        """What the remedies recalled for `situation` (its own `remedy` episodes, nearest
        first: relevance counts most, then recency) and the `fixed_by` facts say of each of
        `candidates` (agent/memory/precedents.py)."""
        from agent.memory.recall import RecallWeights

        weights = RecallWeights(relevance=1.0, recency=0.25, importance=0.0)
        items = await self.episodic.recall_similar(
            situation, RECALLED_REMEDIES, weights, kind="remedy"
        )
        embed = self._b.embedder.embed
        query = embed(situation)

        def similarity(text: str) -> float:
            return max(0.0, min(1.0, float(embed(text) @ query)))

        def between(first: str, second: str) -> float:
            return max(0.0, min(1.0, float(embed(first) @ embed(second))))

        remedies = []
        for item in items:
            found = _REMEDY.match(item.summary)
            if found is None:
                continue
            details = item.details or {}
            where = str(details.get("situation") or found.group(3))
            remedies.append(
                RemedyMemory(
                    id=item.id,
                    situation=where,
                    action=found.group(1),
                    fixed=found.group(2) == "fixed",
                    similarity=similarity(where),
                    target=details.get("target"),
                )
            )
        facts = [
            FixFact(
                id=f.id,
                subject=str(d["subject"]),
                action=str(d["value"]),
                confidence=float(d["confidence"]),
                similarity=similarity(str(d["subject"])),
            )
            for f in await self.semantic.query(limit=1000)
            if (d := f.details or {}).get("predicate") == "fixed_by"
        ]
        return precedents(situation, candidates, remedies, facts, between)

    async def recent_episodes(self, limit: int = 50) -> list[MemoryItem]:
        return await self.episodic.recent(limit)

    async def episode(self, episode_id: int) -> MemoryItem:
        return await self.episodic.episode(episode_id)

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

    async def update_fact(self, insight: Insight) -> MemoryItem:
        """Merge new evidence into a fact: agreement raises confidence, contradiction lowers it."""
        return await self.semantic.update(insight)

    async def query_facts(
        self, subject: str | None = None, text: str | None = None, limit: int = 20
    ) -> list[MemoryItem]:
        """Facts about a subject, or ranked by similarity of their text to `text`."""
        return await self.semantic.query(subject, text, limit)

    async def count_facts(self) -> int:
        return await self.semantic.count()

    # -- procedural memory -----------------------------------------------------------------

    async def procedures(self) -> list[Procedure]:
        return await self.procedural.all()

    async def best_procedure(self, situation: str) -> Procedure | None:
        return await self.procedural.best(situation)

    async def store_procedure(
        self, situation: str, steps: Sequence[Step], sources: Sequence[int] = ()
    ) -> Procedure:
        """Keep a sequence of steps that worked; the same steps again reuse the stored one."""
        return await self.procedural.store(situation, steps, sources)

    async def save_procedure_stats(self, procedure: Procedure) -> None:
        await self.procedural.save_stats(procedure)

    async def count_procedures(self) -> int:
        return await self.procedural.count()

    def procedure_items(self, procedures: Sequence[Procedure]) -> list[MemoryItem]:
        return self.procedural.items(procedures)

    # -- learned values --------------------------------------------------------------------

    def dirty_values(self) -> list[ActionValueRow]:
        """The learned values changed since the last call, as rows for the write-behind."""
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
        changes = await self.procedural.optimize_all()
        for change in changes:  # the record of why a procedure lost a step
            await self.remember("procedure", f"optimised a procedure for {change}", importance=0.4)
        compressed, trimmed = await self.episodic.compress_and_trim(self.max_episodes)
        self.semantic.invalidate_count()  # merged facts: count them again
        return ConsolidationReport(
            insights=insights,
            compressed=compressed,
            trimmed=trimmed,
            optimized=len(changes),
            changes=changes,
            episodes=await self.count_episodes(),
        )
