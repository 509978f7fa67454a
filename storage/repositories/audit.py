"""The audit log: append-only and hash-chained, so that tampering with it is detectable.

Each entry stores the hash of the entry before it (`GENESIS` for the first) and the sha256 of
its own content together with that link. Editing an entry breaks its hash; re-hashing it to
match breaks the next entry's link; deleting one breaks the link across the gap and, on SQLite,
leaves a gap in the ids (a rowid table numbers new rows max(id) + 1, so nothing else makes
gaps). What a chain alone cannot show is the newest entries being cut off the end, or the whole
log being rewritten by someone with write access: that needs the last hash kept elsewhere.

There is no update or delete here on purpose. Entries leave as `AuditEntry` (a plain pydantic
model), never as the table's row, so the API and the CLI show what was recorded, not a session's
object.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, insert
from sqlalchemy import select as core_select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select

from storage.database import Database
from storage.tables import AuditRow

GENESIS = "0" * 64

#: Rows per query while verifying: memory stays flat however long the log grows.
_VERIFY_CHUNK = 5_000


def entry_hash(
    prev_hash: str,
    ts: float,
    actor: str,
    event: str,
    agent: str | None,
    action: str | None,
    target: str | None,
    detail: str,
    why: str,
) -> str:
    """sha256 (hex) of the entry's fields as a canonical JSON array.

    `ts` goes in as `repr(float)`, the shortest text that reads back as the same float, so the
    hash does not depend on how a JSON library formats numbers; None stays `null`, distinct
    from the string "None".
    """
    canonical = json.dumps(
        [prev_hash, repr(float(ts)), actor, event, agent, action, target, detail, why],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AuditEntry(BaseModel):
    """One entry as stored: `webops audit --json` rows and `GET /api/audit`.

    `detail` stays the canonical JSON text that was hashed, so anyone can re-check `hash`.
    """

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: int
    ts: float
    actor: str
    event: str
    agent: str | None = None
    action: str | None = None
    target: str | None = None
    detail: str = "{}"
    why: str = ""
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditVerification:
    """The outcome of walking the chain.

    `entries` is how many entries the log holds; `first_bad` is the id of the first entry that
    was altered, does not link to the entry before it, or follows a gap (a deleted entry).
    """

    ok: bool
    entries: int
    first_bad: int | None
    reason: str


@dataclass(frozen=True)
class _Entry:
    ts: float
    actor: str
    event: str
    agent: str | None
    action: str | None
    target: str | None
    detail: str
    why: str


def _entry(
    *,
    actor: str,
    event: str,
    agent: str | None = None,
    action: str | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    why: str = "",
    ts: float,
) -> _Entry:
    # + 0.0 turns -0.0 into 0.0, as SQLite would when storing it, which would break the hash.
    ts = float(ts) + 0.0
    if not math.isfinite(ts):
        raise ValueError(f"an audit entry needs a finite timestamp, not {ts!r}")
    # Sorted keys: the same detail always serialises (and so hashes) the same way.
    text = json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _Entry(ts, actor, event, agent, action, target, text, why)


def _chain(prev_hash: str, entries: Sequence[_Entry]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for e in entries:
        digest = entry_hash(
            prev_hash, e.ts, e.actor, e.event, e.agent, e.action, e.target, e.detail, e.why
        )
        rows.append(
            {
                "ts": e.ts,
                "actor": e.actor,
                "event": e.event,
                "agent": e.agent,
                "action": e.action,
                "target": e.target,
                "detail": e.detail,
                "why": e.why,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        prev_hash = digest
    return rows


_VERIFY_COLUMNS: tuple[Any, ...] = (
    col(AuditRow.id),
    col(AuditRow.ts),
    col(AuditRow.actor),
    col(AuditRow.event),
    col(AuditRow.agent),
    col(AuditRow.action),
    col(AuditRow.target),
    col(AuditRow.detail),
    col(AuditRow.why),
    col(AuditRow.prev_hash),
    col(AuditRow.hash),
)


def _fault(row_id: int, prev_id: int | None, prev_hash: str, row: Sequence[Any]) -> str:
    """Why the entry `row` (in `_VERIFY_COLUMNS` order) breaks the chain, or "" if it does not.

    `prev_id` is the id before it, or None where ids may legitimately skip values.
    """
    _, ts, actor, event, agent, action, target, detail, why, link, digest = row
    if prev_id is not None and row_id != prev_id + 1:
        if row_id == prev_id + 2:
            return f"entry {prev_id + 1} is missing before entry {row_id} (deleted)"
        return f"entries {prev_id + 1}-{row_id - 1} are missing before entry {row_id} (deleted)"
    if link != prev_hash:
        return (
            f"entry {row_id} does not link to the entry before it "
            "(that entry was deleted or re-hashed)"
        )
    if digest != entry_hash(link, ts, actor, event, agent, action, target, detail, why):
        return f"entry {row_id} was altered: its hash does not match its content"
    return ""


async def _last_hash(conn: AsyncConnection) -> str:
    found = await conn.execute(
        select(col(AuditRow.hash)).order_by(col(AuditRow.id).desc()).limit(1)
    )
    last = found.scalar_one_or_none()
    return GENESIS if last is None else str(last)


class AuditRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def append(
        self,
        *,
        actor: str,
        event: str,
        agent: str | None = None,
        action: str | None = None,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        why: str = "",
        ts: float,
    ) -> AuditEntry:
        """Add one entry at the end of the chain and return it as stored.

        Reading the last hash and inserting share one write transaction, which on SQLite
        begins IMMEDIATE: appenders in other processes wait for it, so the chain never forks.
        (Another dialect would need a table lock at this point.)
        """
        entry = _entry(
            actor=actor,
            event=event,
            agent=agent,
            action=action,
            target=target,
            detail=detail,
            why=why,
            ts=ts,
        )
        async with self._db.session(write=True) as session:
            conn = await session.connection()
            (values,) = _chain(await _last_hash(conn), [entry])
            row = AuditRow(**values)
            session.add(row)
            await session.flush()
            return AuditEntry.model_validate(row)

    async def append_many(self, entries: Sequence[dict[str, Any]]) -> None:
        """Append several entries (each with `append`'s keyword arguments) in one transaction.

        They are chained in the order given; an unknown key raises `TypeError` before anything
        is written.
        """
        prepared = [_entry(**entry) for entry in entries]
        if not prepared:
            return
        async with self._db.session(write=True) as session:
            conn = await session.connection()
            await conn.execute(insert(AuditRow), _chain(await _last_hash(conn), prepared))

    async def about_target(
        self, target: str, since: float, until: float | None, limit: int = 500
    ) -> list[AuditEntry]:
        """Entries about `target` stamped between `since` and `until` (open-ended when None),
        oldest first: what was done to a target while one of its incidents was open."""
        query = select(AuditRow).where(col(AuditRow.target) == target, col(AuditRow.ts) >= since)
        if until is not None:
            query = query.where(col(AuditRow.ts) <= until)
        query = query.order_by(col(AuditRow.ts), col(AuditRow.id)).limit(limit)
        async with self._db.session() as session:
            return [AuditEntry.model_validate(row) for row in await session.exec(query)]

    async def list(self, limit: int = 100, agent: str | None = None) -> list[AuditEntry]:
        """The newest `limit` entries, newest first, optionally only those about `agent`."""
        query = select(AuditRow)
        if agent is not None:
            query = query.where(col(AuditRow.agent) == agent)
        query = query.order_by(col(AuditRow.id).desc()).limit(limit)
        async with self._db.session() as session:
            return [AuditEntry.model_validate(row) for row in await session.exec(query)]

    async def count(self) -> int:
        async with self._db.session() as session:
            conn = await session.connection()
            return int(
                (await conn.execute(select(func.count()).select_from(AuditRow))).scalar_one()
            )

    async def verify(self) -> AuditVerification:
        """Walk the whole chain in id order, in chunks, inside one read transaction.

        One transaction gives a consistent snapshot: entries appended meanwhile are not seen.
        The walk stops at the first bad entry; the rest are then only counted.
        """
        # Gaps mean deletion only where new ids are max(id) + 1; a sequence (another dialect)
        # may skip values taken by rolled-back inserts, so there only the links are checked.
        dense_ids = self._db.engine.dialect.name == "sqlite"
        prev_id, prev_hash, seen = 0, GENESIS, 0
        async with self._db.session() as session:
            conn = await session.connection()
            while True:
                query = (
                    core_select(*_VERIFY_COLUMNS)
                    .where(col(AuditRow.id) > prev_id)
                    .order_by(col(AuditRow.id))
                    .limit(_VERIFY_CHUNK)
                )
                chunk = (await conn.execute(query)).all()
                if not chunk:
                    return AuditVerification(ok=True, entries=seen, first_bad=None, reason="")
                for row in chunk:
                    row_id, digest = int(row[0]), str(row[-1])
                    reason = _fault(row_id, prev_id if dense_ids else None, prev_hash, row)
                    if reason:
                        total = await conn.execute(select(func.count()).select_from(AuditRow))
                        return AuditVerification(
                            ok=False,
                            entries=int(total.scalar_one()),
                            first_bad=row_id,
                            reason=reason,
                        )
                    prev_id, prev_hash, seen = row_id, digest, seen + 1
