"""The kernel's write-behind sources: each maps one kind of in-memory state to its rows.

Every class here is a `write_behind.DirtyRows`: `take_dirty` turns what changed into rows and
clears the dirty flags, `restore` sets them again after a failed write, `write` stores the rows
with one repository call (one transaction). The per-agent sources read the roster's live
mapping of loaded agents, so an agent loaded or deleted meanwhile is seen at the next flush.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agent.core.write_behind import Flushable, Rows
from storage.repositories.records import ActionRecordRepository
from storage.repositories.skills import SkillRepository
from storage.tables import ActionRecordRow, ActionValueRow, RelationshipRow, SkillRow

if TYPE_CHECKING:
    from agent.core.agent import WebOpsAgent
    from agent.memory.memory import AgentMemory, MemoryBackend
    from agent.ops.service import Ops
    from agent.social.relationships import Relationships
    from storage.database import Database
    from storage.repositories.action_values import ActionValueRepository
    from storage.repositories.agents import AgentRepository
    from storage.repositories.episodes import EpisodeRepository
    from storage.repositories.relationships import RelationshipRepository
    from storage.tables import CheckSampleRow

#: Episodes written per INSERT batch.
FLUSH_BATCH = 5_000

Agents = Mapping[str, "WebOpsAgent"]


def _by_id(agents: Agents) -> dict[int, WebOpsAgent]:
    return {a.id: a for a in agents.values()}


class CheckSamples:
    """Check history the ops service keeps for baselines."""

    def __init__(self, ops: Ops) -> None:
        self._ops = ops

    def take_dirty(self) -> list[CheckSampleRow]:
        rows, self._ops.pending_samples = self._ops.pending_samples, []
        return rows

    def restore(self, rows: list[CheckSampleRow]) -> None:
        self._ops.pending_samples = rows + self._ops.pending_samples

    async def write(self, rows: list[CheckSampleRow]) -> None:
        await self._ops.add_samples(rows)


class RelationshipRows:
    def __init__(self, relationships: Relationships, repository: RelationshipRepository) -> None:
        self._relationships = relationships
        self._repository = repository

    def take_dirty(self) -> list[RelationshipRow]:
        return self._relationships.dirty_rows()

    def restore(self, rows: list[RelationshipRow]) -> None:
        for row in rows:
            self._relationships.get(row.subject, row.other).dirty = True

    async def write(self, rows: list[RelationshipRow]) -> None:
        await self._repository.save(rows)


class Episodes:
    """Each agent's new episodes (remembering costs microseconds; writing is batched)."""

    def __init__(self, agents: Agents, repository: EpisodeRepository) -> None:
        self._agents = agents
        self._repository = repository

    def take_dirty(self) -> list[tuple[AgentMemory, list[tuple[Any, ...]]]]:
        taken = [(a.memory, a.memory.take_pending()) for a in self._agents.values()]
        return [(memory, rows) for memory, rows in taken if rows]

    def restore(self, rows: list[tuple[AgentMemory, list[tuple[Any, ...]]]]) -> None:
        for memory, episodes in rows:
            memory.restore_pending(episodes)

    async def write(self, rows: list[tuple[AgentMemory, list[tuple[Any, ...]]]]) -> None:
        episodes = [episode for _, batch in rows for episode in batch]
        for start in range(0, len(episodes), FLUSH_BATCH):
            await self._repository.add_tuples(
                episodes[start : start + FLUSH_BATCH], retry_safe=True
            )


class Emotions:
    """Emotions of the agents marked dirty (they change with every event an agent appraises)."""

    def __init__(self, agents: Agents, repository: AgentRepository) -> None:
        self._agents = agents
        self.repository = repository
        self._names: set[str] = set()

    def mark(self, name: str) -> None:
        self._names.add(name)

    def forget(self, name: str) -> None:
        self._names.discard(name)

    def take_dirty(self) -> list[tuple[str, str, float]]:
        names, self._names = self._names, set()
        agents = self._agents
        return [
            (n, agents[n].mind.to_json(), agents[n].mind.updated_at) for n in names if n in agents
        ]

    def restore(self, rows: list[tuple[str, str, float]]) -> None:
        self._names |= {name for name, _, _ in rows}

    async def write(self, rows: list[tuple[str, str, float]]) -> None:
        await self.repository.save_emotions(rows)


class ReflectionProgress:
    """How much importance each agent gathered towards its next reflection."""

    def __init__(self, agents: Agents, repository: AgentRepository) -> None:
        self._agents = agents
        self._repository = repository

    def take_dirty(self) -> list[tuple[str, float]]:
        rows = []
        for agent in self._agents.values():
            if agent.memory.reflection_dirty:
                agent.memory.reflection_dirty = False
                rows.append((agent.name, agent.memory.importance_since_reflection))
        return rows

    def restore(self, rows: list[tuple[str, float]]) -> None:
        for name, _ in rows:
            if (agent := self._agents.get(name)) is not None:
                agent.memory.reflection_dirty = True

    async def write(self, rows: list[tuple[str, float]]) -> None:
        await self._repository.save_reflection_pending(rows)


class Drifts:
    """How far experience moved each agent's traits (changes a few times per incident)."""

    def __init__(self, agents: Agents, repository: AgentRepository) -> None:
        self._agents = agents
        self._repository = repository

    def take_dirty(self) -> list[tuple[str, str]]:
        rows = []
        for agent in self._agents.values():
            if agent.mind.drift_dirty:
                agent.mind.drift_dirty = False
                rows.append((agent.name, agent.mind.drift.model_dump_json()))
        return rows

    def restore(self, rows: list[tuple[str, str]]) -> None:
        for name, _ in rows:
            if (agent := self._agents.get(name)) is not None:
                agent.mind.drift_dirty = True

    async def write(self, rows: list[tuple[str, str]]) -> None:
        await self._repository.save_drift(rows)


class Records:
    """How each action went for each agent, by target kind (what autonomy is earned from)."""

    def __init__(self, agents: Agents, repository: ActionRecordRepository) -> None:
        self._agents = agents
        self._repository = repository

    def take_dirty(self) -> list[ActionRecordRow]:
        rows = []
        for agent in self._agents.values():
            for (action, kind), counts in agent.records.items():
                if counts.dirty:
                    counts.dirty = False
                    rows.append(
                        ActionRecordRow(
                            agent_id=agent.id,
                            action=action,
                            target_kind=kind,
                            successes=counts.successes,
                            failures=counts.failures,
                            approved_successes=counts.approved_successes,
                            last_success_at=counts.last_success_at,
                            last_failure_at=counts.last_failure_at,
                            approved_streak=counts.approved_streak,
                        )
                    )
        return rows

    def restore(self, rows: list[ActionRecordRow]) -> None:
        agents = _by_id(self._agents)
        for row in rows:
            if (agent := agents.get(row.agent_id)) is not None:
                agent.records[(row.action, row.target_kind)].dirty = True

    async def write(self, rows: list[ActionRecordRow]) -> None:
        await self._repository.save(rows)


class LearnedValues:
    """What each agent learned an action is worth in a situation."""

    def __init__(self, agents: Agents, repository: ActionValueRepository) -> None:
        self._agents = agents
        self._repository = repository

    def take_dirty(self) -> list[ActionValueRow]:
        return [row for agent in self._agents.values() for row in agent.memory.dirty_values()]

    def restore(self, rows: list[ActionValueRow]) -> None:
        agents = _by_id(self._agents)
        for row in rows:
            if (agent := agents.get(row.agent_id)) is not None:
                agent.memory.learner.stats(row.situation, row.action).dirty = True

    async def write(self, rows: list[ActionValueRow]) -> None:
        await self._repository.save(rows)


class Skills:
    """Each agent's skill proficiency and practice."""

    def __init__(self, agents: Agents, repository: SkillRepository) -> None:
        self._agents = agents
        self._repository = repository

    def take_dirty(self) -> list[SkillRow]:
        rows = []
        for agent in self._agents.values():
            for state in agent.skills.skills.values():
                if state.dirty:
                    state.dirty = False
                    rows.append(
                        SkillRow(
                            agent_id=agent.id,
                            name=state.name,
                            proficiency=state.proficiency,
                            practice_count=state.practice_count,
                            successes=state.successes,
                            failures=state.failures,
                            learned_at=state.learned_at,
                            last_practiced_at=state.last_practiced_at,
                        )
                    )
        return rows

    def restore(self, rows: list[SkillRow]) -> None:
        agents = _by_id(self._agents)
        for row in rows:
            if (agent := agents.get(row.agent_id)) is not None:
                agent.skills.skills[row.name].dirty = True

    async def write(self, rows: list[SkillRow]) -> None:
        await self._repository.save(rows)


def agent_state(
    agents: Agents, emotions: Emotions, database: Database, memory: MemoryBackend
) -> list[Flushable]:
    """The flush steps for what loaded agents hold, in the order they are written: episodes
    first (they are the bulk), then emotions, reflection progress, personality drift, records,
    values, skills."""
    return [
        Rows(Episodes(agents, memory.episodes)),
        Rows(emotions),
        Rows(ReflectionProgress(agents, emotions.repository)),
        Rows(Drifts(agents, emotions.repository)),
        Rows(Records(agents, ActionRecordRepository(database))),
        Rows(LearnedValues(agents, memory.values)),
        Rows(Skills(agents, SkillRepository(database))),
    ]
