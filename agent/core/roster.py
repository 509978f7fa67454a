"""The roster: which agents exist, and each one loaded from its rows once and kept.

An agent lives as rows (its personality and emotions, records, learned values, skills) until
something asks for it; `load` then builds the `WebOpsAgent` with its mind, memory and skills,
once even under concurrent first uses, and keeps it. The names are cached for `HOT_READ_S`
because every chat turn asks for the team (another process's new agents appear within it).
"""

from __future__ import annotations

import asyncio
import random
import time
import zlib
from collections.abc import Callable, Mapping

from agent.core.agent import AgentHost, RecordCounts, WebOpsAgent
from agent.core.config import KernelConfig
from agent.core.lifecycle import parse_state
from agent.core.resources import Resources
from agent.errors import NotFound
from agent.fresh import Fresh
from agent.memory.memory import AgentMemory, IdAllocator, MemoryBackend
from agent.mind.mind import Mind
from agent.mind.personality import build_personality
from agent.mind.profile import AgentProfile, check_agent_name, stored_mind, stored_profile
from agent.skills.proficiency import SkillBook, SkillRegistry
from storage.database import Database
from storage.repositories.action_values import ActionValueRepository
from storage.repositories.agents import AgentRepository
from storage.repositories.episodes import EpisodeRepository
from storage.repositories.facts import FactRepository
from storage.repositories.procedures import ProcedureRepository
from storage.repositories.records import ActionRecordRepository
from storage.repositories.skills import SkillRepository
from storage.tables import AgentRow

#: How old the agent names that chat reads may be.
HOT_READ_S = 1.0


class Roster:
    def __init__(
        self,
        database: Database,
        host: AgentHost,
        skills: SkillRegistry,
        config: Callable[[], KernelConfig],
        clock: Callable[[], float],
    ) -> None:
        self.rows = AgentRepository(database)
        self._records = ActionRecordRepository(database)
        self._skills = SkillRepository(database)
        self._host = host
        episodes = EpisodeRepository(database)
        #: What every agent's memory shares (the kernel's `memory_backend`).
        self.memory = MemoryBackend(
            episodes=episodes,
            facts=FactRepository(database),
            procedures=ProcedureRepository(database),
            values=ActionValueRepository(database),
            ids=IdAllocator(episodes),
            clock=clock,
        )
        self._skill_registry = skills
        self._config = config
        self._clock = clock
        self._agents: dict[str, WebOpsAgent] = {}
        self._loading = asyncio.Lock()
        self._names = Fresh(self._read_names, HOT_READ_S, serve_stale_s=HOT_READ_S)

    @property
    def agents(self) -> Mapping[str, WebOpsAgent]:
        """The loaded agents by name (live: the write-behind reads it at every flush)."""
        return self._agents

    async def create(
        self, name: str, preset: str | None, traits: Mapping[str, float | None]
    ) -> AgentProfile:
        """Create an agent from a preset plus trait overrides; nothing is stored on bad input."""
        check_agent_name(name)
        label, personality = build_personality(preset, traits)
        now = time.time()
        row = AgentRow(
            name=name,
            preset=label,
            openness=personality.openness,
            conscientiousness=personality.conscientiousness,
            extraversion=personality.extraversion,
            agreeableness=personality.agreeableness,
            neuroticism=personality.neuroticism,
            created_at=now,
            updated_at=now,
            emotions_at=self._clock(),
        )
        row = await self.rows.add(row)  # a taken name raises DuplicateKey, an AlreadyExists
        self._names.invalidate()
        return AgentProfile.from_row(row)

    async def profiles(self) -> list[AgentProfile]:
        return [self._profile(row) for row in await self.rows.list()]

    async def profile(self, name: str) -> AgentProfile:
        return self._profile(await self._row(name))

    async def delete(self, name: str) -> AgentProfile:
        """Stop the agent if it runs, then remove it and (by cascade) all it owns."""
        profile = await self.profile(name)
        agent = self._agents.pop(name, None)
        if agent is not None:
            await agent.stop(self._config().stop_timeout_s)
        deleted = await self.rows.delete(name)
        self._names.invalidate()
        if not deleted:
            raise NotFound(f"no agent named {name!r}")
        return profile

    async def names(self) -> list[str]:
        """Every agent's name, another process's new agents within `HOT_READ_S`."""
        return await self._names.get()

    async def _read_names(self) -> list[str]:
        return [p.name for p in await self.profiles()]

    def loaded(self, name: str) -> WebOpsAgent | None:
        return self._agents.get(name)

    async def load(self, name: str) -> WebOpsAgent:
        """The agent with its mind and records, loaded once and kept."""
        if name in self._agents:
            return self._agents[name]
        async with self._loading:  # concurrent first uses of one agent load it once
            if name in self._agents:
                return self._agents[name]
            agent = self._agents[name] = await self._hydrate(await self._row(name))
            return agent

    def _profile(self, row: AgentRow) -> AgentProfile:
        loaded = self._agents.get(row.name)
        if loaded is not None:
            mind = loaded.mind
            return AgentProfile.from_row(row, mind.mood()).model_copy(
                update={
                    "state": loaded.state,
                    "personality": mind.personality,
                    "drift": mind.drift.as_dict(),
                }
            )
        return stored_profile(row, self._clock, adaptive=self._config().adapt_personality)

    def _mind(self, row: AgentRow) -> Mind:
        """The agent's mind as stored: base traits, their drift, its last emotions."""
        return stored_mind(row, self._clock, adaptive=self._config().adapt_personality)

    async def _row(self, name: str) -> AgentRow:
        row = await self.rows.get(name)
        if row is None:
            raise NotFound(f"no agent named {name!r}")
        return row

    async def _hydrate(self, row: AgentRow) -> WebOpsAgent:
        """The agent from its rows: records, mind, memory (with learned values) and skills."""
        assert row.id is not None
        config = self._config()
        records = {
            (r.action, r.target_kind): RecordCounts(
                successes=r.successes,
                failures=r.failures,
                approved_successes=r.approved_successes,
                last_success_at=r.last_success_at,
                last_failure_at=r.last_failure_at,
                approved_streak=r.approved_streak,
            )
            for r in await self._records.for_agent(row.id)
        }
        mind = self._mind(row)
        values = await self.memory.values.for_agent(row.id)
        memory = AgentMemory(
            row.id,
            self.memory,
            AgentMemory.learner_from(
                values,
                mind.effects.exploration,
                random.Random(config.seed * 1_000_003 + zlib.crc32(row.name.encode())),
            ),
            max_episodes=config.limits.max_episodes,
            importance_since_reflection=row.importance_since_reflection,
        )
        skills = SkillBook(self._skill_registry, mind.personality.openness).restore(
            await self._skills.for_agent(row.id)
        )
        return WebOpsAgent(
            AgentProfile.from_row(row, mind.mood()),
            row.id,
            mind,
            Resources(config.limits, self._clock),
            self._host,
            parse_state(row.state),
            records,
            memory=memory,
            skills=skills,
        )
