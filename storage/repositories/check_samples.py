"""Check history per target: appended in batches, read back as the baseline, capped in size.

Samples are ordered by id, which is the order they were stored in (the `(target, id)` index
serves every query here); `ts` is data, not the ordering key, so clock steps do not reorder it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert
from sqlalchemy import select as core_select
from sqlmodel import col, select

from storage.database import Database
from storage.tables import CheckSampleRow

_COLUMNS = ("target", "ts", "healthy", "latency_ms", "worker")


class CheckSampleRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add_many(self, rows: Sequence[CheckSampleRow]) -> None:
        """Store `rows` in one transaction, in the order given (a Core bulk insert)."""
        if not rows:
            return
        dicts = [{name: getattr(row, name) for name in _COLUMNS} for row in rows]
        async with self._db.session(write=True) as session:
            conn = await session.connection()
            await conn.execute(insert(CheckSampleRow), dicts)

    async def newest_id(self) -> int:
        """The id of the newest sample stored (0 with none): where a follower starts."""
        async with self._db.session() as session:
            conn = await session.connection()
            found = (await conn.execute(core_select(func.max(col(CheckSampleRow.id))))).scalar()
        return int(found or 0)

    async def since(self, last_id: int, limit: int = 2000) -> list[CheckSampleRow]:
        """The samples stored after `last_id`, oldest first, at most `limit` (a range of the
        primary key: one indexed read, however long the history; rows built without
        validation, as they were validated when stored)."""
        query = (
            core_select(*(col(getattr(CheckSampleRow, name)) for name in ("id", *_COLUMNS)))
            .where(col(CheckSampleRow.id) > last_id)
            .order_by(col(CheckSampleRow.id))
            .limit(limit)
        )
        async with self._db.session() as session:
            conn = await session.connection()
            return [
                CheckSampleRow.model_construct(
                    id=id_, target=target, ts=ts, healthy=healthy, latency_ms=latency_ms, worker=by
                )
                for id_, target, ts, healthy, latency_ms, by in await conn.execute(query)
            ]

    async def history(self, target: str, limit: int = 500) -> list[CheckSampleRow]:
        """The newest `limit` samples of `target`, oldest first (ready to plot or fit)."""
        query = (
            select(CheckSampleRow)
            .where(col(CheckSampleRow.target) == target)
            .order_by(col(CheckSampleRow.id).desc())
            .limit(limit)
        )
        async with self._db.session() as session:
            rows = list(await session.exec(query))
        rows.reverse()
        return rows

    async def histories(
        self, targets: Sequence[str], limit: int = 500
    ) -> dict[str, list[tuple[float | None, bool]]]:
        """(latency_ms, healthy) of the newest `limit` samples of each of `targets`, oldest
        first, in one query: the first checks of thousands of targets each asked for its own
        history, thousands of round trips queued on the one connection."""
        if not targets:
            return {}
        newest_first = func.row_number().over(
            partition_by=col(CheckSampleRow.target), order_by=col(CheckSampleRow.id).desc()
        )
        ranked = (
            core_select(
                col(CheckSampleRow.target),
                col(CheckSampleRow.id),
                col(CheckSampleRow.latency_ms),
                col(CheckSampleRow.healthy),
                newest_first.label("rank"),
            )
            .where(col(CheckSampleRow.target).in_(targets))
            .subquery()
        )
        query = (
            core_select(ranked.c.target, ranked.c.latency_ms, ranked.c.healthy)
            .where(ranked.c.rank <= limit)
            .order_by(ranked.c.target, ranked.c.id)
        )
        found: dict[str, list[tuple[float | None, bool]]] = {name: [] for name in targets}
        async with self._db.session() as session:
            conn = await session.connection()
            for target, latency_ms, healthy in await conn.execute(query):
                found[target].append((latency_ms, bool(healthy)))
        return found

    async def trim(self, target: str, keep: int = 500) -> int:
        """Delete all but the newest `keep` samples of `target`; return how many went."""
        if keep < 0:
            raise ValueError(f"cannot keep a negative number of samples ({keep})")
        of_target = col(CheckSampleRow.target) == target
        # The id of the newest sample that goes; NULL (nothing deleted) with `keep` or fewer.
        boundary = (
            select(col(CheckSampleRow.id))
            .where(of_target)
            .order_by(col(CheckSampleRow.id).desc())
            .offset(keep)
            .limit(1)
            .scalar_subquery()
        )
        statement = delete(CheckSampleRow).where(of_target, col(CheckSampleRow.id) <= boundary)
        async with self._db.session(write=True) as session:
            conn = await session.connection()
            return int((await conn.execute(statement)).rowcount)
