"""Procedural memory: versioned step lists per kind of situation, with their track record."""

from __future__ import annotations

from sqlalchemy import func, update
from sqlmodel import col, select

from storage.database import Database
from storage.tables import ProcedureRow


class ProcedureRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, row: ProcedureRow) -> ProcedureRow:
        """Store a new procedure (or a new version of one); returns it with its id."""
        async with self._db.session(write=True) as session:
            session.add(row)
            await session.flush()
        return row

    async def save_stats(
        self, procedure_id: int, steps: str, successes: int, failures: int, now: float
    ) -> None:
        """Write back steps and counts after a run; the version stays (a rewrite is `add`)."""
        async with self._db.session(write=True) as session:
            await session.exec(
                update(ProcedureRow)
                .where(col(ProcedureRow.id) == procedure_id)
                .values(steps=steps, successes=successes, failures=failures, updated_at=now)
            )

    async def deactivate(self, procedure_id: int, now: float) -> None:
        """Retire a procedure; it stays stored as the parent of its successors."""
        async with self._db.session(write=True) as session:
            await session.exec(
                update(ProcedureRow)
                .where(col(ProcedureRow.id) == procedure_id)
                .values(active=0, updated_at=now)
            )

    async def get(self, procedure_id: int) -> ProcedureRow | None:
        async with self._db.session() as session:
            return await session.get(ProcedureRow, procedure_id)

    async def count(self, agent_id: int, include_inactive: bool = False) -> int:
        query = (
            select(func.count())
            .select_from(ProcedureRow)
            .where(col(ProcedureRow.agent_id) == agent_id)
        )
        if not include_inactive:
            query = query.where(col(ProcedureRow.active) == 1)
        async with self._db.session() as session:
            return int((await session.exec(query)).one())

    async def list(
        self, agent_id: int, situation: str | None = None, include_inactive: bool = False
    ) -> list[ProcedureRow]:
        """By situation, the newest version of each first."""
        query = select(ProcedureRow).where(col(ProcedureRow.agent_id) == agent_id)
        if situation is not None:
            query = query.where(col(ProcedureRow.situation) == situation)
        if not include_inactive:
            query = query.where(col(ProcedureRow.active) == 1)
        query = query.order_by(
            col(ProcedureRow.situation), col(ProcedureRow.version).desc(), col(ProcedureRow.id)
        )
        async with self._db.session() as session:
            return list(await session.exec(query))
