"""Silences and maintenance windows: when targets are in maintenance (migration 13)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, or_, select

from storage.database import Database
from storage.errors import DuplicateKey
from storage.repositories.named import NamedRowRepository
from storage.tables import MaintenanceWindowRow, SilenceRow


class MaintenanceWindowRepository(NamedRowRepository[MaintenanceWindowRow]):
    model = MaintenanceWindowRow
    noun = "maintenance window"


class SilenceRepository:
    """One-off silences; those that ended are not listed (and are pruned when one is added)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, row: SilenceRow) -> SilenceRow:
        """Store a new silence (replacing one of the same name); ended ones are dropped."""
        try:
            async with self._db.session(write=True) as session:
                ended = col(SilenceRow.ends_at) <= row.created_at
                await session.exec(delete(SilenceRow).where(ended))
                if row.name is not None:
                    await session.exec(delete(SilenceRow).where(col(SilenceRow.name) == row.name))
                session.add(row)
                await session.flush()
                await session.refresh(row)
        except IntegrityError as exc:
            raise DuplicateKey(f"a silence named {row.name!r} already exists") from exc
        return row

    async def current(self, now: float) -> list[SilenceRow]:
        """Silences not yet ended at `now` (on or upcoming), soonest end first."""
        async with self._db.session() as session:
            query = (
                select(SilenceRow)
                .where(col(SilenceRow.ends_at) > now)
                .order_by(col(SilenceRow.ends_at), col(SilenceRow.id))
            )
            return list(await session.exec(query))

    async def remove(self, key: str) -> SilenceRow | None:
        """Forget the silence with this id (digits) or name; None when there is none."""
        async with self._db.session(write=True) as session:
            match = col(SilenceRow.name) == key
            if key.isdigit() and len(key) < 19:
                match = or_(match, col(SilenceRow.id) == int(key))
            found = (await session.exec(select(SilenceRow).where(match))).first()
            if found is None:
                return None
            await session.delete(found)
            return found
