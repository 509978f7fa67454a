"""Notification routes (one row per unique name) and the outbox of deliveries.

Every delivery is a row before it is tried, so a notification survives a crash or a restart
(the next notifier picks up what is still pending) and `webops status` in another process can
count what was sent and what failed. Route URLs arrive here already sealed (storage/secrets.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, func, select, update

from storage.database import Database
from storage.repositories.named import NamedRowRepository
from storage.tables import NotificationRow, NotifyRouteRow


class NotifyRouteRepository(NamedRowRepository[NotifyRouteRow]):
    model = NotifyRouteRow
    noun = "notification route"


@dataclass(frozen=True)
class OutboxCounts:
    """How many deliveries are pending, sent and failed, and the newest failure's error."""

    pending: int = 0
    sent: int = 0
    failed: int = 0
    #: Attempts that failed, including those a later retry made good.
    failed_attempts: int = 0
    last_failure: str = ""
    last_failure_at: float | None = None


class OutboxRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, rows: list[NotificationRow]) -> list[NotificationRow]:
        async with self._db.session(write=True) as session:
            session.add_all(rows)
            await session.flush()
            for row in rows:
                await session.refresh(row)
        return rows

    async def due(self, now: float, limit: int = 50) -> list[NotificationRow]:
        """Pending deliveries whose next attempt is due, oldest first."""
        async with self._db.session() as session:
            query = (
                select(NotificationRow)
                .where(
                    col(NotificationRow.status) == "pending", col(NotificationRow.next_at) <= now
                )
                .order_by(col(NotificationRow.id))
                .limit(limit)
            )
            return list(await session.exec(query))

    async def routes_told(self, incident_id: int, event: str) -> set[str]:
        """The routes the outbox holds a row for about `incident_id` and `event` (whatever
        became of it): what the notifier already said, in this run or an earlier one."""
        async with self._db.session() as session:
            query = (
                select(NotificationRow.route)
                .where(
                    col(NotificationRow.incident_id) == incident_id,
                    col(NotificationRow.event) == event,
                )
                .distinct()
            )
            return set(await session.exec(query))

    async def next_due(self) -> float | None:
        """When the earliest pending delivery is due; None when nothing is pending."""
        async with self._db.session() as session:
            query = select(func.min(NotificationRow.next_at)).where(
                col(NotificationRow.status) == "pending"
            )
            value = (await session.exec(query)).first()
            return None if value is None else float(value)

    async def settle(
        self, row_id: int, status: str, attempts: int, error: str, next_at: float, at: float
    ) -> None:
        """Record one attempt: sent, failed for good, or pending again until `next_at`. A
        delivery that failed before it was sent keeps its last error (status shows it)."""
        values: dict[str, object] = {"status": status, "attempts": attempts, "next_at": next_at}
        if status == "sent":
            values["sent_at"] = at
        else:
            values["last_error"] = error
        async with self._db.session(write=True) as session:
            await session.exec(
                update(NotificationRow).where(col(NotificationRow.id) == row_id).values(**values)
            )

    async def counts(self) -> OutboxCounts:
        async with self._db.session() as session:
            query = select(
                NotificationRow.status, func.count(), func.sum(NotificationRow.attempts)
            ).group_by(NotificationRow.status)
            by_status: dict[str, int] = {}
            attempts = 0
            for status, n, tried in await session.exec(query):
                by_status[status] = int(n)
                attempts += int(tried or 0)
            failure = (
                await session.exec(
                    select(NotificationRow)
                    .where(col(NotificationRow.last_error) != "")
                    .order_by(col(NotificationRow.next_at).desc(), col(NotificationRow.id).desc())
                    .limit(1)
                )
            ).first()
        return OutboxCounts(
            pending=by_status.get("pending", 0),
            sent=by_status.get("sent", 0),
            failed=by_status.get("failed", 0),
            failed_attempts=attempts - by_status.get("sent", 0),
            last_failure=failure.last_error if failure else "",
            last_failure_at=failure.next_at if failure else None,
        )

    async def recent(self, limit: int = 20) -> list[NotificationRow]:
        async with self._db.session() as session:
            query = select(NotificationRow).order_by(col(NotificationRow.id).desc()).limit(limit)
            return list(await session.exec(query))
