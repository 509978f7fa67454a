"""The audit log: append-only and chained with HMACs, so that tampering with it is detectable.

Each entry stores the MAC of the entry before it (`GENESIS` for the first) and the HMAC-SHA256,
under the audit key (storage/audit_key.py, a file beside the database, never in it), of its own
content together with that link. Editing an entry breaks its MAC; re-computing it needs the key;
deleting one breaks the link across the gap and, on SQLite, leaves a gap in the ids (a rowid
table numbers new rows max(id) + 1, so nothing else makes gaps). What a chain alone cannot show
is the newest entries being cut off the end: that needs the head (`head`, `webops audit
--anchor`) kept elsewhere and handed back to `verify`.

Logs written before the key existed hold plain sha256 links (`entry_hash`). They stay as they
are and are verified by that old rule; the first keyed append writes an `audit_keyed` marker
after them, and from the marker on every entry must carry a valid HMAC (an unkeyed row there is
a forgery). The walk itself is in audit_walk.py.

There is no update or delete here on purpose. Entries leave as `AuditEntry` (a plain pydantic
model), never as the table's row, so the API and the CLI show what was recorded, not a session's
object; a row someone damaged by hand (a text `ts`, a blob `detail`) is still shown, as text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, insert
from sqlalchemy import select as core_select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from storage.audit_key import audit_key_path, create_audit_key, read_audit_key
from storage.database import Database
from storage.repositories.audit_chain import (
    GENESIS,
    MARKER_EVENT,
    Anchor,
    AuditVerification,
    entry_hash,
    entry_mac,
    is_keyed,
    shown,
    walk,
)
from storage.tables import AuditRow

__all__ = [
    "GENESIS",
    "MARKER_EVENT",
    "Anchor",
    "AuditEntry",
    "AuditRepository",
    "AuditVerification",
    "entry_hash",
    "entry_mac",
]

logger = logging.getLogger("webops.audit")


class AuditEntry(BaseModel):
    """One entry as stored: `webops audit --json` rows and `GET /api/audit`.

    `detail` stays the canonical JSON text that was hashed, so anyone holding the key can
    re-check `hash`.
    """

    model_config = ConfigDict(frozen=True)

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

    @classmethod
    def of(cls, row: Sequence[Any]) -> AuditEntry:
        """A row in `_COLUMNS` order, shown even when damaged by hand: a `ts` that is not a
        number becomes 0.0, a blob its hex (`verify` reports such a row as altered)."""
        row_id, ts, actor, event, agent, action, target, detail, why, link, digest = row
        number = isinstance(ts, int | float) and math.isfinite(ts)
        return cls(
            id=row_id,
            ts=float(ts) if number else 0.0,
            actor=shown(actor),
            event=shown(event),
            agent=None if agent is None else shown(agent),
            action=None if action is None else shown(action),
            target=None if target is None else shown(target),
            detail=shown(detail),
            why=shown(why),
            prev_hash=shown(link),
            hash=shown(digest),
        )


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


def _chain(key: bytes, prev_hash: str, entries: Sequence[_Entry]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for e in entries:
        digest = entry_mac(
            key, prev_hash, e.ts, e.actor, e.event, e.agent, e.action, e.target, e.detail, e.why
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


#: The advisory lock PostgreSQL appenders queue on ("AUDT" in ASCII).
_APPEND_LOCK = 0x41554454

_COLUMNS: tuple[Any, ...] = (
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


class AuditRepository:
    def __init__(self, database: Database, key: bytes | None = None) -> None:
        """`key` only for a database without a file; otherwise the key file beside it."""
        self._db = database
        self._key = key
        self._keyed = False

    async def _signing_key(self) -> bytes:
        """The key to append with, creating its file on the first append."""
        if self._key is not None:
            return self._key
        path = self._db.keys_path
        if path is None:
            key = secrets.token_bytes(32)
        else:
            where = audit_key_path(path)
            found = await asyncio.to_thread(read_audit_key, where)
            key = found if found is not None else await asyncio.to_thread(create_audit_key, where)
        self._key = key
        return key

    async def _checking_key(self) -> tuple[bytes | None, str]:
        """The key to verify with and where it lives; never creates one."""
        if self._key is not None or self._db.keys_path is None:
            return self._key, "(in memory)"
        where = audit_key_path(self._db.keys_path)
        return await asyncio.to_thread(read_audit_key, where), str(where)

    async def _write(self, conn: AsyncConnection, prepared: Sequence[_Entry]) -> None:
        """Chain `prepared` after the last entry, with the marker first where the log so far
        is not keyed (written by an older version, or under a key that was lost)."""
        key = await self._signing_key()
        if conn.dialect.name == "postgresql":
            # SQLite's BEGIN IMMEDIATE makes appenders queue; on a server shared by several
            # nodes this lock does (held until the transaction ends), so the chain never forks.
            await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_APPEND_LOCK})")
        found = await conn.execute(
            core_select(*_COLUMNS).order_by(col(AuditRow.id).desc()).limit(1)
        )
        last = found.first()
        prev = GENESIS if last is None else shown(last[-1])
        if last is not None and not self._keyed and not is_keyed(key, last):
            count = (await conn.execute(select_count())).scalar_one()
            logger.warning("audit: %d unkeyed entries before the first keyed one", count)
            marker = _entry(
                actor="webops",
                event=MARKER_EVENT,
                detail={"unkeyed_entries": int(count), "unkeyed_head": prev},
                why="entries before this one were chained without the audit key",
                ts=prepared[0].ts,
            )
            prepared = [marker, *prepared]
        await conn.execute(insert(AuditRow), _chain(key, prev, prepared))

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

        Reading the last MAC and inserting share one write transaction, which on SQLite
        begins IMMEDIATE: appenders in other processes wait for it, so the chain never forks.
        On PostgreSQL an advisory lock taken first does the same for every node.
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
            await self._write(conn, [entry])
            newest = await conn.execute(
                core_select(*_COLUMNS).order_by(col(AuditRow.id).desc()).limit(1)
            )
            stored = AuditEntry.of(newest.one())
        self._keyed = True
        return stored

    async def append_many(self, entries: Sequence[dict[str, Any]]) -> None:
        """Append several entries (each with `append`'s keyword arguments) in one transaction.

        They are chained in the order given; an unknown key raises `TypeError` before anything
        is written.
        """
        prepared = [_entry(**entry) for entry in entries]
        if not prepared:
            return
        async with self._db.session(write=True) as session:
            await self._write(await session.connection(), prepared)
        self._keyed = True

    async def _entries(self, query: Any) -> list[AuditEntry]:
        async with self._db.session() as session:
            conn = await session.connection()
            return [AuditEntry.of(row) for row in (await conn.execute(query)).all()]

    async def about_target(
        self, target: str, since: float, until: float | None, limit: int = 500
    ) -> list[AuditEntry]:
        """Entries about `target` stamped between `since` and `until` (open-ended when None),
        oldest first: what was done to a target while one of its incidents was open."""
        query = core_select(*_COLUMNS).where(
            col(AuditRow.target) == target, col(AuditRow.ts) >= since
        )
        if until is not None:
            query = query.where(col(AuditRow.ts) <= until)
        query = query.order_by(col(AuditRow.ts), col(AuditRow.id)).limit(limit)
        return await self._entries(query)

    async def list(self, limit: int = 100, agent: str | None = None) -> list[AuditEntry]:
        """The newest `limit` entries, newest first, optionally only those about `agent`."""
        query = core_select(*_COLUMNS)
        if agent is not None:
            query = query.where(col(AuditRow.agent) == agent)
        return await self._entries(query.order_by(col(AuditRow.id).desc()).limit(limit))

    async def count(self) -> int:
        async with self._db.session() as session:
            conn = await session.connection()
            return int((await conn.execute(select_count())).scalar_one())

    async def head(self) -> Anchor:
        """The newest entry's id and MAC (0 and `GENESIS` for an empty log): what to keep
        elsewhere and hand back to `verify` to show that nothing was cut or rewritten."""
        async with self._db.session() as session:
            conn = await session.connection()
            found = await conn.execute(
                core_select(col(AuditRow.id), col(AuditRow.hash))
                .order_by(col(AuditRow.id).desc())
                .limit(1)
            )
            last = found.first()
        return Anchor(0, GENESIS) if last is None else Anchor(int(str(last[0])), shown(last[1]))

    async def verify(self, anchor: Anchor | None = None) -> AuditVerification:
        """Walk the whole chain in id order, in chunks, inside one read transaction (a
        consistent snapshot: entries appended meanwhile are not seen); see audit_walk.py."""
        key, where = await self._checking_key()
        # Gaps mean deletion only where new ids are max(id) + 1; a sequence (another dialect)
        # may skip values taken by rolled-back inserts, so there only the links are checked.
        dense_ids = self._db.engine.dialect.name == "sqlite"
        async with self._db.session() as session:
            conn = await session.connection()
            return await walk(conn, _COLUMNS, key, where, dense_ids, anchor)


def select_count() -> Any:
    return core_select(func.count()).select_from(AuditRow)
