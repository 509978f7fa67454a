"""The kernel: the one in-process runtime that the workbench, the CLI and the API all drive.

It owns the database for its lifetime (opened in `open`, closed in `close`) and is the only
entry point the shells use; nothing above it touches storage.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from agent.errors import AlreadyExists, NotFound
from agent.personality import build_personality
from agent.profile import AgentProfile, check_agent_name
from storage.database import Database
from storage.errors import DuplicateKey
from storage.repositories.agents import AgentRepository
from storage.tables import AgentRow


class Kernel:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._agents = AgentRepository(database)

    @classmethod
    async def open(cls, path: Path) -> Kernel:
        return cls(await Database.open(path))

    async def close(self) -> None:
        await self.database.close()

    async def __aenter__(self) -> Kernel:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def create_agent(
        self, name: str, preset: str | None = None, traits: Mapping[str, float | None] = {}
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
        )
        try:
            row = await self._agents.add(row)
        except DuplicateKey as exc:
            raise AlreadyExists(exc.message) from None
        return AgentProfile.from_row(row)

    async def list_agents(self) -> list[AgentProfile]:
        return [AgentProfile.from_row(row) for row in await self._agents.list()]

    async def get_agent(self, name: str) -> AgentProfile:
        row = await self._agents.get(name)
        if row is None:
            raise NotFound(f"no agent named {name!r}")
        return AgentProfile.from_row(row)

    async def delete_agent(self, name: str) -> AgentProfile:
        profile = await self.get_agent(name)
        if not await self._agents.delete(name):
            raise NotFound(f"no agent named {name!r}")
        return profile
