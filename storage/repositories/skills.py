"""Per-agent skill proficiency, written back in batches as the agents practise."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from storage.database import Database
from storage.repositories.upsert import upsert
from storage.tables import SkillRow


class SkillRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def for_agent(self, agent_id: int) -> list[SkillRow]:
        async with self._db.session() as session:
            rows = await session.exec(
                select(SkillRow)
                .where(col(SkillRow.agent_id) == agent_id)
                .order_by(col(SkillRow.name))
            )
            return list(rows)

    async def save(self, rows: Sequence[SkillRow]) -> None:
        """Upsert skills by (agent, name) in one transaction."""
        await upsert(self._db, SkillRow, ("agent_id", "name"), rows)
