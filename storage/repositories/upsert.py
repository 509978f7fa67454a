"""Upsert by a natural key, the portable way: UPDATE, then INSERT what was not there.

Portable across dialects (no ON CONFLICT), and race-free because write sessions begin
IMMEDIATE (one writer at a time). Shared by every repository that saves in-memory state.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import SQLModel, col

from storage.database import Database


async def upsert(
    database: Database, model: type[SQLModel], keys: tuple[str, ...], rows: Sequence[SQLModel]
) -> None:
    """Write `rows` of `model`, matching stored rows on the `keys` columns, in one transaction."""
    if not rows:
        return
    async with database.session(write=True) as session:
        for row in rows:
            values = row.model_dump(exclude={"id"})
            statement = update(model).values(**values)
            for key in keys:
                statement = statement.where(col(getattr(model, key)) == values[key])
            result = await session.exec(statement)
            if not result.rowcount:
                session.add(model(**values))
