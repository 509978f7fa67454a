"""Per-agent skill proficiency, written back in batches as the agents practise."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import col, select

from storage.database import Database
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
        """Upsert skills by (agent, name) in one transaction.

        An UPDATE first, then an INSERT for the rows it did not find: portable across
        dialects, and the write lock (BEGIN IMMEDIATE) keeps it race-free.
        """
        if not rows:
            return
        async with self._db.session(write=True) as session:
            for row in rows:
                values = row.model_dump(exclude={"id"})
                result = await session.exec(
                    update(SkillRow)
                    .where(col(SkillRow.agent_id) == row.agent_id)
                    .where(col(SkillRow.name) == row.name)
                    .values(**values)
                )
                if not result.rowcount:
                    session.add(SkillRow(**values))
