"""Approvals another process stored or decided, told on this kernel's bus (part of `Follower`).

A worker on another node asks for an approval; a person approves one from a CLI elsewhere: the
workbench's approvals panel and the API's event stream here learn of it from the database.
Each read takes the rows after the newest id seen plus the ones this process holds open
(pending, or approved and not yet run), by the primary key only: a queue of thousands of
decided approvals costs nothing.

What this process publishes itself (its own requests and decisions) is heard on the bus and
not said again; a read under way when the bus spoke of an approval is older and skips it.
"""

from __future__ import annotations

from agent.events import ApprovalDecided, ApprovalRequested, EventBus, KernelEvent
from storage.database import Database
from storage.repositories.approvals import ApprovalRepository
from storage.tables import ApprovalRow

#: Statuses after which nothing changes: the follower forgets such an approval.
FINAL = frozenset({"executed", "failed", "denied", "withdrawn"})
#: Approvals read at a time (a backlog is worked off over the next reads).
BATCH = 500
#: Pending approvals remembered on a fresh start.
MAX_OPEN = 1000


class FollowedApprovals:
    """What the bus last said of each approval still open, and the newest id seen."""

    def __init__(self, database: Database, bus: EventBus) -> None:
        self.rows = ApprovalRepository(database)
        self.bus = bus
        self._last = 0
        #: Approval id -> the status the bus last said, for approvals not yet final.
        self._open: dict[int, str] = {}
        #: Approvals the bus spoke of while a read was under way (that read is older).
        self._told: set[int] = set()

    async def seek(self) -> None:
        """Start from the newest rows: what is older the panels read when they open."""
        self._last = await self.rows.newest_id()
        self._open = {
            row.id or 0: row.status for row, _ in await self.rows.list("pending", MAX_OPEN)
        }

    def heard(self, event: KernelEvent) -> None:
        if isinstance(event, ApprovalRequested):
            self._told.add(event.approval_id)
            self._open[event.approval_id] = "pending"
        elif isinstance(event, ApprovalDecided):
            self._told.add(event.approval_id)
            if event.status in FINAL:
                self._open.pop(event.approval_id, None)
            else:
                self._open[event.approval_id] = event.status

    async def fetch(self) -> list[tuple[ApprovalRow, str]]:
        self._told.clear()
        return await self.rows.after_or_among(self._last, tuple(self._open), BATCH)

    def publish(self, rows: list[tuple[ApprovalRow, str]], now: float) -> None:
        """Say what changed in `rows` (from `fetch`) since the bus last spoke of each."""
        for row, agent in rows:
            assert row.id is not None
            new = row.id > self._last
            self._last = max(self._last, row.id)
            if row.id in self._told:
                continue
            said = self._open.get(row.id)
            if new and said is None:
                self.bus.publish(  # `heard` keeps what it said
                    ApprovalRequested(
                        agent=agent,
                        approval_id=row.id,
                        action=row.action,
                        target=row.target,
                        risk=row.risk,
                        summary=row.summary,
                        ts=row.created_at,
                    )
                )
                said = "pending"
            if row.status not in (said, "pending"):
                self.bus.publish(
                    ApprovalDecided(
                        agent=agent,
                        approval_id=row.id,
                        status=row.status,
                        by=row.decided_by or "",
                        ts=row.decided_at or now,
                    )
                )
            elif row.status in FINAL:
                self._open.pop(row.id, None)
