"""Incidents: written when opened and when they change, so a killed loop loses none."""

from __future__ import annotations

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.database import Database
from storage.tables import IncidentEventRow, IncidentRow

#: Columns only a person's lifecycle change writes; the loop's `save` leaves them alone.
#: The statuses migration 16's unique index covers: at most one such incident per target.
OPEN_STATUSES = ("open", "awaiting_approval")
PERSON_COLUMNS = {"id", "acknowledged_at", "acknowledged_by", "person_rev"}


class IncidentRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, row: IncidentRow) -> IncidentRow:
        """Store a copy and return it with its id; `row` itself never joins a session, so
        other tasks may read it while this one waits on the database.

        One open incident per target is the database's rule (migration 16's unique index):
        when another worker opened one first, that stored incident is returned instead."""
        stored = IncidentRow.model_validate(row.model_dump())
        try:
            async with self._db.session(write=True) as session:
                session.add(stored)
                await session.flush()
                await session.refresh(stored)
        except IntegrityError:
            found = await self.list(statuses=OPEN_STATUSES, target=row.target, limit=1)
            if not found:
                raise
            return found[0]
        return stored

    async def save(self, row: IncidentRow) -> bool:
        """Write the loop's view of the incident, unless a person resolved or reopened it
        since the loop read it (`person_rev` moved): then nothing is written and False says
        the person's change stands (compare-and-set, so another process's resolve is never
        overwritten, however the two interleave)."""
        assert row.id is not None
        values = row.model_dump(exclude=PERSON_COLUMNS)
        async with self._db.session(write=True) as session:
            done = await session.exec(
                update(IncidentRow)
                .where(col(IncidentRow.id) == row.id, col(IncidentRow.person_rev) == row.person_rev)
                .values(**values)
            )
            return bool(done.rowcount)

    async def person_change(self, incident_id: int, values: dict[str, object]) -> None:
        """A person's resolve or reopen: written over whatever the loop holds, and counted."""
        async with self._db.session(write=True) as session:
            await session.exec(
                update(IncidentRow)
                .where(col(IncidentRow.id) == incident_id)
                .values(**values, person_rev=col(IncidentRow.person_rev) + 1)
            )

    async def acknowledge(self, incident_id: int, by: str, at: float) -> None:
        async with self._db.session(write=True) as session:
            await session.exec(
                update(IncidentRow)
                .where(col(IncidentRow.id) == incident_id)
                .values(acknowledged_at=at, acknowledged_by=by)
            )

    async def add_event(self, event: IncidentEventRow) -> None:
        """One line of the incident's journal (a note, a person's change, a decision)."""
        async with self._db.session(write=True) as session:
            session.add(IncidentEventRow.model_validate(event.model_dump()))

    async def events(self, incident_id: int) -> list[IncidentEventRow]:
        """The incident's journal, oldest first."""
        async with self._db.session() as session:
            rows = await session.exec(
                select(IncidentEventRow)
                .where(IncidentEventRow.incident_id == incident_id)
                .order_by(col(IncidentEventRow.ts), col(IncidentEventRow.id))
            )
            return list(rows)

    async def get(self, incident_id: int) -> IncidentRow | None:
        async with self._db.session() as session:
            return await session.get(IncidentRow, incident_id)

    async def open_or_after(
        self, statuses: tuple[str, ...], last_id: int, limit: int = 1000
    ) -> list[IncidentRow]:
        """The incidents in any of `statuses` (the open ones) and every one after `last_id`,
        by id: what may have changed since a reader last looked, as the table has no "updated
        at" column (each half of the OR is an index: `incident_status` and the key)."""
        query = (
            select(IncidentRow)
            .where(or_(col(IncidentRow.status).in_(statuses), col(IncidentRow.id) > last_id))
            .order_by(col(IncidentRow.id))
            .limit(limit)
        )
        async with self._db.session() as session:
            return list(await session.exec(query))

    async def list(
        self,
        status: str | None = None,
        limit: int = 1000,
        *,
        statuses: tuple[str, ...] | None = None,
        target: str | None = None,
    ) -> list[IncidentRow]:
        """Newest first; only `status` (or any of `statuses`) and `target` when given."""
        async with self._db.session() as session:
            query = select(IncidentRow)
            if status is not None:
                query = query.where(IncidentRow.status == status)
            if statuses is not None:
                query = query.where(col(IncidentRow.status).in_(statuses))
            if target is not None:
                query = query.where(IncidentRow.target == target)
            rows = await session.exec(query.order_by(col(IncidentRow.id).desc()).limit(limit))
            return list(rows)

    async def newest_id(self) -> int:
        """The id of the newest incident (0 with none)."""
        async with self._db.session() as session:
            found = (await session.exec(select(func.max(col(IncidentRow.id))))).one()
        return int(found or 0)

    async def count_by_status(self) -> dict[str, int]:
        """How many incidents are in each status (one grouped read, for `/metrics`)."""
        async with self._db.session() as session:
            query = select(IncidentRow.status, func.count()).group_by(IncidentRow.status)
            return {status: int(n) for status, n in await session.exec(query)}
