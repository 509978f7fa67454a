"""The approvals queue: actions waiting for a human, and what became of them."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import or_, update
from sqlmodel import col, func, select

from storage.database import Database
from storage.tables import AgentRow, ApprovalRow


class ApprovalRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, row: ApprovalRow) -> ApprovalRow:
        async with self._db.session(write=True) as session:
            session.add(row)
            await session.flush()
            await session.refresh(row)
        return row

    async def get(self, approval_id: int) -> tuple[ApprovalRow, str] | None:
        """The approval and the name of the agent that asked."""
        async with self._db.session() as session:
            found = await session.exec(
                select(ApprovalRow, AgentRow.name)
                .join(AgentRow, col(AgentRow.id) == col(ApprovalRow.agent_id))
                .where(ApprovalRow.id == approval_id)
            )
            first = found.first()
            return (first[0], first[1]) if first else None

    async def after_or_among(
        self, after_id: int, ids: Collection[int], limit: int
    ) -> list[tuple[ApprovalRow, str]]:
        """Approvals stored after `after_id` and those among `ids`, oldest first: what a
        follower of another process needs (new requests; decisions on the ones it holds
        open), by the primary key only."""
        async with self._db.session() as session:
            where = col(ApprovalRow.id) > after_id
            if ids:
                where = or_(where, col(ApprovalRow.id).in_(sorted(ids)))
            rows = await session.exec(
                select(ApprovalRow, AgentRow.name)
                .join(AgentRow, col(AgentRow.id) == col(ApprovalRow.agent_id))
                .where(where)
                .order_by(col(ApprovalRow.id))
                .limit(limit)
            )
            return [(row, name) for row, name in rows]

    async def list(
        self, status: str | None = None, limit: int = 100
    ) -> list[tuple[ApprovalRow, str]]:
        async with self._db.session() as session:
            query = select(ApprovalRow, AgentRow.name).join(
                AgentRow, col(AgentRow.id) == col(ApprovalRow.agent_id)
            )
            if status is not None:
                query = query.where(ApprovalRow.status == status)
            rows = await session.exec(query.order_by(col(ApprovalRow.id)).limit(limit))
            return [(row, name) for row, name in rows]

    async def newest_id(self) -> int:
        """The id of the newest approval (0 with none)."""
        async with self._db.session() as session:
            found = (await session.exec(select(func.max(col(ApprovalRow.id))))).one()
        return int(found or 0)

    async def transition(
        self,
        approval_id: int,
        from_status: str,
        to_status: str,
        *,
        at: float,
        by: str | None = None,
        result: str | None = None,
    ) -> bool:
        """Move an approval from one status to another; False if it was not in `from_status`.

        The check and the write are one statement, so two operators approving at once cannot
        both win.
        """
        values: dict[str, object] = {"status": to_status}
        if by is not None:
            values |= {"decided_by": by, "decided_at": at}
        if result is not None:
            values["result"] = result
        async with self._db.session(write=True) as session:
            done = await session.exec(
                update(ApprovalRow)
                .where(col(ApprovalRow.id) == approval_id)
                .where(col(ApprovalRow.status) == from_status)
                .values(**values)
            )
            return bool(done.rowcount)
