"""Definitions stored one row per unique name (targets, runbooks); TOML imports replace by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlmodel import col, delete, select

from storage.database import Database
from storage.errors import DuplicateKey, StorageError


class NamedRow(Protocol):
    """What the repository needs of its model: an SQLModel table whose rows have a unique `name`
    (`TargetRow`, `RunbookRow`, `ApiTokenRow`), so a row's name is typed, not looked up blind."""

    name: str

    def model_dump(self, *, exclude: set[str]) -> dict[str, Any]: ...


Row = TypeVar("Row", bound=NamedRow)

#: Names looked up per statement in `replace_many` (SQLite allows 32,766 parameters).
_CHUNK = 500


class NamedRowRepository(Generic[Row]):
    """add / list / get / remove / replace for a table whose rows have a unique `name`."""

    model: type[Row]
    noun: str

    def __init__(self, database: Database) -> None:
        self._db = database

    def _name_column(self) -> Mapped[str]:
        return col(self.model.name)

    def _refused(self, exc: IntegrityError, name: str) -> StorageError:
        text = str(exc.orig) if exc.orig is not None else str(exc)
        if "UNIQUE" in text.upper() or "duplicate key" in text:
            return DuplicateKey(f"a {self.noun} named {name!r} already exists")
        return StorageError(f"the {self.noun} {name!r} was refused; nothing stored: {text}")

    async def add(self, row: Row) -> Row:
        """Store a new row; a taken name raises `DuplicateKey` and stores nothing."""
        try:
            async with self._db.session(write=True) as session:
                session.add(row)
                await session.flush()
                await session.refresh(row)
        except IntegrityError as exc:
            raise self._refused(exc, row.name) from exc
        return row

    async def list(self) -> list[Row]:
        async with self._db.session() as session:
            return list(await session.exec(select(self.model).order_by(self._name_column())))

    async def get(self, name: str) -> Row | None:
        async with self._db.session() as session:
            query = select(self.model).where(self._name_column() == name)
            return (await session.exec(query)).first()

    async def remove(self, name: str) -> bool:
        """Forget a row; False when there was none by that name."""
        async with self._db.session(write=True) as session:
            result = await session.exec(delete(self.model).where(self._name_column() == name))
            return bool(result.rowcount)

    async def replace(self, row: Row) -> Row:
        """Insert the row, or overwrite the one with its name keeping its id and `created_at`.

        The lookup and the write share one write transaction (BEGIN IMMEDIATE on SQLite), so a
        concurrent import cannot insert the same name in between. `row` itself is not changed.
        """
        name = row.name
        values = row.model_dump(exclude={"id"})
        try:
            async with self._db.session(write=True) as session:
                found = await session.exec(select(self.model).where(self._name_column() == name))
                stored = found.first()
                if stored is None:
                    stored = self.model(**values)
                    session.add(stored)
                else:
                    for key, value in values.items():
                        if key != "created_at":
                            setattr(stored, key, value)
                await session.flush()
                await session.refresh(stored)
        except IntegrityError as exc:
            raise self._refused(exc, name) from exc
        return stored

    async def replace_many(self, rows: Sequence[Row]) -> None:
        """`replace` for many rows in one write transaction: all are stored or none is.

        An import of 5,000 targets was 5,000 transactions (~14 ms each); this is one, with the
        stored rows looked up a chunk of names at a time. A name given twice keeps the last.
        """
        latest = {row.name: row.model_dump(exclude={"id"}) for row in rows}
        names = list(latest)
        try:
            async with self._db.session(write=True) as session:
                for start in range(0, len(names), _CHUNK):
                    chunk = names[start : start + _CHUNK]
                    found = await session.exec(
                        select(self.model).where(self._name_column().in_(chunk))
                    )
                    for stored in found:
                        for key, value in latest.pop(stored.name).items():
                            if key != "created_at":
                                setattr(stored, key, value)
                session.add_all([self.model(**values) for values in latest.values()])
                await session.flush()
        except IntegrityError as exc:
            raise self._refused(exc, names[0] if names else "") from exc
