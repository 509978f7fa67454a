"""Watched web services, one row per unique name; the TOML import replaces them by name."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select

from storage.database import Database
from storage.errors import DuplicateKey, StorageError
from storage.tables import TargetRow


def _refused(exc: IntegrityError, name: str) -> StorageError:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    if "UNIQUE" in text.upper() or "duplicate key" in text:
        return DuplicateKey(f"a target named {name!r} already exists")
    return StorageError(f"the target {name!r} was refused; nothing stored: {text}")


class TargetRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, row: TargetRow) -> TargetRow:
        """Store a new target; a taken name raises `DuplicateKey` and stores nothing."""
        try:
            async with self._db.session(write=True) as session:
                session.add(row)
                await session.flush()
                await session.refresh(row)
        except IntegrityError as exc:
            raise _refused(exc, row.name) from exc
        return row

    async def list(self) -> list[TargetRow]:
        async with self._db.session() as session:
            return list(await session.exec(select(TargetRow).order_by(col(TargetRow.name))))

    async def get(self, name: str) -> TargetRow | None:
        async with self._db.session() as session:
            return (
                await session.exec(select(TargetRow).where(col(TargetRow.name) == name))
            ).first()

    async def remove(self, name: str) -> bool:
        """Forget a target; False when there was none by that name."""
        async with self._db.session(write=True) as session:
            result = await session.exec(delete(TargetRow).where(col(TargetRow.name) == name))
            return bool(result.rowcount)

    async def replace(self, row: TargetRow) -> TargetRow:
        """Insert the target, or overwrite the one with its name keeping its id and `created_at`.

        The lookup and the write share one write transaction (BEGIN IMMEDIATE on SQLite), so a
        concurrent import cannot insert the same name in between. `row` itself is not changed.
        """
        values = row.model_dump(exclude={"id"})
        try:
            async with self._db.session(write=True) as session:
                found = await session.exec(select(TargetRow).where(col(TargetRow.name) == row.name))
                stored = found.first()
                if stored is None:
                    stored = TargetRow(**values)
                    session.add(stored)
                else:
                    for key, value in values.items():
                        if key != "created_at":
                            setattr(stored, key, value)
                await session.flush()
                await session.refresh(stored)
        except IntegrityError as exc:
            raise _refused(exc, row.name) from exc
        return stored
