"""How agents regard each other and their operators, written in batches by the kernel."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from storage.database import Database
from storage.repositories.upsert import upsert
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
        """Upsert relationships by (subject, other) in one transaction."""
        await upsert(self._db, RelationshipRow, ("subject", "other"), rows)
