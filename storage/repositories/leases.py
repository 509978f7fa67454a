"""Workers and the leases through which they share targets: the SQL of `webops run --worker`.

Chosen: every statement is one the SQLite and PostgreSQL dialects both run. Rows are added with
`INSERT ... ON CONFLICT DO NOTHING`, free or expired leases are picked `FOR UPDATE SKIP LOCKED`
(PostgreSQL: two workers claiming at once pick different rows; SQLite ignores the clause, its
write transactions run one at a time) and then taken by a conditional UPDATE, so a lease
another worker renewed meanwhile is never taken. Time is the database's: on PostgreSQL the
server's clock, so every node agrees on when a lease expires; a SQLite file is shared only on
one machine, whose clock every worker reads.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.database import Database
from storage.tables import TargetLeaseRow, WorkerRow


@dataclass(frozen=True)
class WorkerView:
    """A worker as `webops workers` lists it."""

    name: str
    started_at: float
    seen_at: float
    stopped_at: float | None
    lease_s: float
    leased: int


class LeaseRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def _postgres(self) -> bool:
        return self._db.engine.dialect.name == "postgresql"

    async def now(self) -> float:
        """Seconds since the epoch on the one clock all workers share."""
        if not self._postgres():
            return time.time()
        async with self._db.session() as session:
            conn = await session.connection()
            found = await conn.execute(text("SELECT extract(epoch from clock_timestamp())"))
            return float(found.scalar_one())

    async def register(self, name: str, lease_s: float, now: float) -> WorkerView | None:
        """Start `name` as a worker; the live worker of that name (seen within its lease and
        not stopped) is returned instead, and nothing is written."""
        try:
            async with self._db.session(write=True) as session:
                query = select(WorkerRow).where(WorkerRow.name == name)
                row = (await session.exec(query)).first()
                if row is not None and row.stopped_at is None and row.seen_at >= now - row.lease_s:
                    return _view(row, 0)
                if row is None:
                    row = WorkerRow(name=name, started_at=now, seen_at=now, lease_s=lease_s)
                else:
                    row.started_at, row.seen_at, row.lease_s = now, now, lease_s
                    row.stopped_at = None
                session.add(row)
        except IntegrityError:  # another node registered the name at the same moment
            return WorkerView(name, now, now, None, lease_s, 0)
        return None

    async def heartbeat(self, name: str, now: float) -> None:
        async with self._db.session(write=True) as session:
            await session.exec(
                update(WorkerRow).where(col(WorkerRow.name) == name).values(seen_at=now)
            )

    async def live_workers(self, now: float) -> int:
        """Workers seen within their lease and not stopped."""
        async with self._db.session() as session:
            query = select(func.count()).where(
                col(WorkerRow.stopped_at).is_(None), WorkerRow.seen_at >= now - WorkerRow.lease_s
            )
            return int((await session.exec(query)).one())

    async def ensure(self, targets: Iterable[str]) -> None:
        """Every target has a lease row (free until claimed); existing rows are left alone."""
        values = [{"target": name} for name in targets]
        if not values:
            return
        insert = pg_insert if self._postgres() else sqlite_insert
        statement = insert(TargetLeaseRow).on_conflict_do_nothing(index_elements=["target"])
        async with self._db.session(write=True) as session:
            conn = await session.connection()
            for start in range(0, len(values), 500):
                await conn.execute(statement.values(values[start : start + 500]))

    async def renew(self, name: str, now: float, lease_s: float) -> dict[str, float]:
        """Extend every lease `name` still holds; returns them with their new expiry."""
        until = now + lease_s
        async with self._db.session(write=True) as session:
            await session.exec(
                update(TargetLeaseRow)
                .where(col(TargetLeaseRow.worker) == name)
                .values(expires_at=until)
            )
            rows = await session.exec(
                select(TargetLeaseRow.target).where(TargetLeaseRow.worker == name)
            )
            return {target: until for target in rows}

    async def claim(self, name: str, now: float, lease_s: float, limit: int) -> list[str]:
        """Take up to `limit` free or expired leases (not held by `name`); returns those taken."""
        if limit <= 0:
            return []
        free = or_(col(TargetLeaseRow.worker) == "", col(TargetLeaseRow.expires_at) < now)
        async with self._db.session(write=True) as session:
            picked = list(
                await session.exec(
                    select(TargetLeaseRow.target)
                    .where(free, col(TargetLeaseRow.worker) != name)
                    .order_by(col(TargetLeaseRow.target))
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            if not picked:
                return []
            await session.exec(
                update(TargetLeaseRow)
                .where(col(TargetLeaseRow.target).in_(picked), free)
                .values(worker=name, expires_at=now + lease_s)
            )
            taken = await session.exec(
                select(TargetLeaseRow.target).where(
                    col(TargetLeaseRow.target).in_(picked), TargetLeaseRow.worker == name
                )
            )
            return list(taken)

    async def release(self, name: str, targets: Iterable[str] | None = None) -> None:
        """Give up `name`'s leases (all of them without `targets`): free for others at once."""
        statement = update(TargetLeaseRow).where(col(TargetLeaseRow.worker) == name)
        if targets is not None:
            statement = statement.where(col(TargetLeaseRow.target).in_(list(targets)))
        async with self._db.session(write=True) as session:
            await session.exec(statement.values(worker="", expires_at=0.0))

    async def stopped(self, name: str, now: float) -> None:
        async with self._db.session(write=True) as session:
            await session.exec(
                update(WorkerRow).where(col(WorkerRow.name) == name).values(stopped_at=now)
            )

    async def workers(self, now: float) -> list[WorkerView]:
        """Every worker ever started, by name, with how many unexpired leases it holds."""
        async with self._db.session() as session:
            held = dict(
                (
                    await session.exec(
                        select(TargetLeaseRow.worker, func.count())
                        .where(TargetLeaseRow.expires_at >= now)
                        .group_by(TargetLeaseRow.worker)
                    )
                ).all()
            )
            rows = await session.exec(select(WorkerRow).order_by(col(WorkerRow.name)))
            return [_view(row, int(held.get(row.name, 0))) for row in rows]


def _view(row: WorkerRow, leased: int) -> WorkerView:
    return WorkerView(
        name=row.name,
        started_at=row.started_at,
        seen_at=row.seen_at,
        stopped_at=row.stopped_at,
        lease_s=row.lease_s,
        leased=leased,
    )
