"""Delete what a retention policy no longer keeps: old episodes, messages, check samples,
closed incidents (with their journal, `incident_event`) and notifications delivered or given up
on. The audit log is never touched (it is the record of what happened), nor an open incident or
a notification still pending, however old. (Silences that ended are deleted whenever a silence
is added, storage/repositories/silences.py.)

Each kind is deleted by its own time column, older than a cutoff the caller computes; counting
(`dry_run`) runs the same conditions, so the counts a dry run prints are what a real run removes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import delete, func, select
from sqlmodel import col

from storage.database import Database
from storage.tables import (
    CheckSampleRow,
    EpisodeRow,
    IncidentEventRow,
    IncidentRow,
    MessageRow,
    NotificationRow,
)

#: The kinds a policy may name, in the order they are reported.
KINDS: Final = ("episodes", "messages", "check_samples", "incidents", "notifications")


def _condition(kind: str, before: float) -> tuple[type[Any], Any]:
    if kind == "episodes":
        return EpisodeRow, col(EpisodeRow.ts) < before
    if kind == "messages":
        return MessageRow, col(MessageRow.ts) < before
    if kind == "check_samples":
        return CheckSampleRow, col(CheckSampleRow.ts) < before
    if kind == "incidents":  # closed ones only: closed_at is NULL while an incident is open
        return IncidentRow, col(IncidentRow.closed_at).is_not(None) & (
            col(IncidentRow.closed_at) < before
        )
    if kind == "notifications":  # sent or failed for good: a pending one is still to be sent
        return NotificationRow, (col(NotificationRow.status) != "pending") & (
            col(NotificationRow.created_at) < before
        )
    raise ValueError(f"unknown kind {kind!r}")


async def prune(
    database: Database, before: Mapping[str, float], *, dry_run: bool = False
) -> dict[str, int]:
    """Rows older than `before[kind]` per kind (counted, or deleted in one transaction)."""
    counts: dict[str, int] = {}
    async with database.session(write=not dry_run) as session:
        conn = await session.connection()
        for kind in KINDS:
            if kind not in before:
                continue
            table, condition = _condition(kind, before[kind])
            if dry_run:
                found = await conn.execute(select(func.count()).select_from(table).where(condition))
                counts[kind] = int(found.scalar_one())
            else:
                if kind == "incidents":  # their journal goes with them
                    pruned = select(col(IncidentRow.id)).where(condition)
                    journal = col(IncidentEventRow.incident_id).in_(pruned)
                    await conn.execute(delete(IncidentEventRow).where(journal))
                done = await conn.execute(delete(table).where(condition))
                counts[kind] = int(done.rowcount or 0)
    return counts
