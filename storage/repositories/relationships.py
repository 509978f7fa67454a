"""How agents regard each other and their operators, written in batches by the kernel."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import col, select

from storage.database import Database
from storage.tables import RelationshipRow


class RelationshipRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def all(self) -> list[RelationshipRow]:
        """Every relationship, by subject then other: few enough to keep in memory."""
        async with self._db.session() as session:
            rows = await session.exec(
                select(RelationshipRow).order_by(
                    col(RelationshipRow.subject), col(RelationshipRow.other)
                )
            )
            return list(rows)

    async def save(self, rows: Sequence[RelationshipRow]) -> None:
        """Upsert relationships by (subject, other) in one transaction.

        An UPDATE first, then an INSERT for the rows it did not find: portable across
        dialects, and the write lock (BEGIN IMMEDIATE) keeps it race-free.
        """
        if not rows:
            return
        async with self._db.session(write=True) as session:
            for row in rows:
                values = row.model_dump(exclude={"id"})
                result = await session.exec(
                    update(RelationshipRow)
                    .where(col(RelationshipRow.subject) == row.subject)
                    .where(col(RelationshipRow.other) == row.other)
                    .values(**values)
                )
                if not result.rowcount:
                    session.add(RelationshipRow(**values))
