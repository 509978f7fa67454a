"""Learned action values per (agent, situation, action), saved in batches by the kernel."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import col, select

from storage.database import Database
from storage.tables import ActionValueRow


class ActionValueRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def for_agent(self, agent_id: int) -> list[ActionValueRow]:
        async with self._db.session() as session:
            rows = await session.exec(
                select(ActionValueRow)
                .where(col(ActionValueRow.agent_id) == agent_id)
                .order_by(col(ActionValueRow.situation), col(ActionValueRow.action))
            )
            return list(rows)

    async def save(self, rows: Sequence[ActionValueRow]) -> None:
        """Upsert values by (agent, situation, action) in one transaction.

        An UPDATE first, then an INSERT for the rows it did not find: portable across
        dialects, and the write lock (BEGIN IMMEDIATE) keeps it race-free.
        """
        if not rows:
            return
        async with self._db.session(write=True) as session:
            for row in rows:
                values = row.model_dump(exclude={"id"})
                result = await session.exec(
                    update(ActionValueRow)
                    .where(col(ActionValueRow.agent_id) == row.agent_id)
                    .where(col(ActionValueRow.situation) == row.situation)
                    .where(col(ActionValueRow.action) == row.action)
                    .values(**values)
                )
                if not result.rowcount:
                    session.add(ActionValueRow(**values))
