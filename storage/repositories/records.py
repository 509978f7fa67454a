"""Per-agent records of how each action went, written in batches by the kernel."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from storage.database import Database
from storage.repositories.upsert import upsert
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
        """Upsert records by (agent, action, target kind) in one transaction."""
        await upsert(self._db, ActionRecordRow, ("agent_id", "action", "target_kind"), rows)
