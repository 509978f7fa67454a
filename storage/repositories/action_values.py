"""Learned action values per (agent, situation, action), saved in batches by the kernel."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from storage.database import Database
from storage.repositories.upsert import upsert
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
        """Upsert values by (agent, situation, action) in one transaction."""
        await upsert(self._db, ActionValueRow, ("agent_id", "situation", "action"), rows)
