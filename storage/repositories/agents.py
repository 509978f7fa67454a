"""Agents as stored rows."""

from __future__ import annotations

import time

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select

from storage.database import Database
from storage.errors import DuplicateKey
from storage.tables import AgentRow


class AgentRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, row: AgentRow) -> AgentRow:
        """Store a new agent; a taken name raises `DuplicateKey` and stores nothing."""
        try:
            async with self._db.session(write=True) as session:
                session.add(row)
                await session.flush()
                await session.refresh(row)
        except IntegrityError as exc:
            raise DuplicateKey(f"an agent named {row.name!r} already exists") from exc
        return row

    async def list(self) -> list[AgentRow]:
        async with self._db.session() as session:
            rows = await session.exec(select(AgentRow).order_by(col(AgentRow.name)))
            return list(rows)

    async def get(self, name: str) -> AgentRow | None:
        async with self._db.session() as session:
            rows = await session.exec(select(AgentRow).where(AgentRow.name == name))
            return rows.first()

    async def set_state(self, name: str, state: str) -> None:
        async with self._db.session(write=True) as session:
            row = (await session.exec(select(AgentRow).where(AgentRow.name == name))).one()
            row.state = state
            row.updated_at = time.time()

    async def delete(self, name: str) -> bool:
        """Remove an agent; False when there was none of that name."""
        async with self._db.session(write=True) as session:
            result = await session.exec(delete(AgentRow).where(col(AgentRow.name) == name))
            return bool(result.rowcount)
