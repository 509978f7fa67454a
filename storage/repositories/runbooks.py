"""Operator-defined remedies, one row per unique name; the TOML import replaces them by name.

Secret values in `RunbookRow.secrets` arrive here already encrypted (see `storage.secrets`):
this repository stores text and never sees a plaintext secret.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select

from storage.database import Database
from storage.errors import DuplicateKey, StorageError
from storage.tables import RunbookRow


def _refused(exc: IntegrityError, name: str) -> StorageError:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    if "UNIQUE" in text.upper() or "duplicate key" in text:
        return DuplicateKey(f"a runbook named {name!r} already exists")
    return StorageError(f"the runbook {name!r} was refused; nothing stored: {text}")


class RunbookRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, row: RunbookRow) -> RunbookRow:
        """Store a new runbook; a taken name raises `DuplicateKey` and stores nothing."""
        try:
            async with self._db.session(write=True) as session:
                session.add(row)
                await session.flush()
                await session.refresh(row)
        except IntegrityError as exc:
            raise _refused(exc, row.name) from exc
        return row

    async def list(self) -> list[RunbookRow]:
        async with self._db.session() as session:
            return list(await session.exec(select(RunbookRow).order_by(col(RunbookRow.name))))

    async def get(self, name: str) -> RunbookRow | None:
        async with self._db.session() as session:
            return (
                await session.exec(select(RunbookRow).where(col(RunbookRow.name) == name))
            ).first()

    async def remove(self, name: str) -> bool:
        """Forget a runbook; False when there was none by that name."""
        async with self._db.session(write=True) as session:
            result = await session.exec(delete(RunbookRow).where(col(RunbookRow.name) == name))
            return bool(result.rowcount)

    async def replace(self, row: RunbookRow) -> RunbookRow:
        """Insert the runbook, or overwrite the one with its name keeping its id and `created_at`.

        The lookup and the write share one write transaction (BEGIN IMMEDIATE on SQLite), so a
        concurrent import cannot insert the same name in between. `row` itself is not changed.
        """
        values = row.model_dump(exclude={"id"})
        try:
            async with self._db.session(write=True) as session:
                found = await session.exec(
                    select(RunbookRow).where(col(RunbookRow.name) == row.name)
                )
                stored = found.first()
                if stored is None:
                    stored = RunbookRow(**values)
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
