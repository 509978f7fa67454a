"""Per-agent records of how each action went, written in batches by the kernel."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import col, select

from storage.database import Database
from storage.tables import ActionRecordRow


class ActionRecordRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def for_agent(self, agent_id: int) -> list[ActionRecordRow]:
        async with self._db.session() as session:
            rows = await session.exec(
                select(ActionRecordRow)
                .where(ActionRecordRow.agent_id == agent_id)
                .order_by(col(ActionRecordRow.action), col(ActionRecordRow.target_kind))
            )
            return list(rows)

    async def save(self, rows: Sequence[ActionRecordRow]) -> None:
        """Upsert records by (agent, action, target kind) in one transaction.

        An UPDATE first, then an INSERT for the rows it did not find: portable across
        dialects, and the write lock (BEGIN IMMEDIATE) keeps it race-free.
        """
        if not rows:
            return
        async with self._db.session(write=True) as session:
            for row in rows:
                values = row.model_dump(exclude={"id"})
                result = await session.exec(
                    update(ActionRecordRow)
                    .where(col(ActionRecordRow.agent_id) == row.agent_id)
                    .where(col(ActionRecordRow.action) == row.action)
                    .where(col(ActionRecordRow.target_kind) == row.target_kind)
                    .values(**values)
                )
                if not result.rowcount:
                    session.add(ActionRecordRow(**values))
