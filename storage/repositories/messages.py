"""Message history: written in batches by the bus, read back one conversation at a time.

The bus persists thousands of messages a second behind the senders' backs, so the write path
skips the ORM (about 40x slower for many rows, see STACK-NOTES.md): ids are taken from
`max(id)` inside the write transaction (it begins IMMEDIATE, so no other writer can take the
same ones), then the rows go in with one `executemany` on SQLite (the whole transaction one call
into the batch writer's thread, storage/batch_writer.py) or one Core `insert()` with a list of
dicts on any other dialect.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from sqlalchemy import func, insert, or_, update
from sqlmodel import col, select

from storage.database import Database
from storage.tables import MessageRow

#: The column order of `MessageTuple` (the id is assigned on insert).
MESSAGE_COLUMNS: tuple[str, ...] = (
    "conversation",
    "sender",
    "recipient",
    "kind",
    "text",
    "meaning",
    "status",
    "lang",
    "ts",
)

#: (conversation, sender, recipient, kind, text, meaning JSON, status, lang, ts)
MessageTuple = tuple[str, str, str, str, str, str, str, str, float]

_SQLITE_INSERT = (
    f"INSERT INTO message (id, {', '.join(MESSAGE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(MESSAGE_COLUMNS) + 1))})"
)

#: Ids per `IN (...)`: well under SQLite's bound-parameter limit on every version.
_CHUNK = 500


def _insert(connection: sqlite3.Connection, rows: Sequence[MessageTuple]) -> list[int]:
    """`add_tuples` in the batch writer's thread (storage/batch_writer.py): one hand-over."""
    top = connection.execute("SELECT max(id) FROM message").fetchone()[0]
    start = int(top or 0) + 1
    ids = list(range(start, start + len(rows)))
    connection.executemany(_SQLITE_INSERT, [(i, *row) for i, row in zip(ids, rows, strict=True)])
    return ids


class MessageRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add_many(self, rows: Sequence[MessageRow]) -> list[int]:
        """Store `rows` in one transaction; see `add_tuples`. The rows' own ids are ignored."""
        return await self.add_tuples(
            [
                (
                    r.conversation,
                    r.sender,
                    r.recipient,
                    r.kind,
                    r.text,
                    r.meaning,
                    r.status,
                    r.lang,
                    r.ts,
                )
                for r in rows
            ]
        )

    async def add_tuples(self, rows: Sequence[MessageTuple]) -> list[int]:
        """Store ready-made tuples (in `MESSAGE_COLUMNS` order) all or nothing.

        Returns the new ids in the order of `rows`: consecutive, above every id stored so far,
        so id order is the order the messages were handed over.
        """
        if not rows:
            return []
        if self._db.batches is not None:
            return await self._db.write_batch(lambda connection: _insert(connection, rows))
        async with self._db.session(write=True) as session:
            conn = await session.connection()
            top = (await conn.execute(select(func.max(col(MessageRow.id))))).scalar()
            start = int(top or 0) + 1
            ids = list(range(start, start + len(rows)))
            if self._db.engine.dialect.name == "sqlite":
                await conn.exec_driver_sql(
                    _SQLITE_INSERT, [(i, *row) for i, row in zip(ids, rows, strict=True)]
                )
            else:
                dicts = [
                    {"id": i, **dict(zip(MESSAGE_COLUMNS, row, strict=True))}
                    for i, row in zip(ids, rows, strict=True)
                ]
                await conn.execute(insert(MessageRow), dicts)
        return ids

    async def set_status(self, ids: Sequence[int], status: str) -> None:
        """Set the delivery status of these messages, in one transaction."""
        if not ids:
            return
        unique = list(dict.fromkeys(ids))
        if self._db.batches is not None:
            await self._db.write_batch(
                lambda connection: connection.executemany(
                    "UPDATE message SET status = ? WHERE id = ?", [(status, i) for i in unique]
                )
            )
            return
        async with self._db.session(write=True) as session:
            conn = await session.connection()
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start : start + _CHUNK]
                await conn.execute(
                    update(MessageRow).where(col(MessageRow.id).in_(chunk)).values(status=status)
                )

    async def history(
        self, conversation: str, limit: int = 100, before_id: int | None = None
    ) -> list[MessageRow]:
        """The newest `limit` messages of a conversation (older than `before_id`), oldest first.

        `before_id` pages backwards: pass the first id of the previous page.
        """
        if limit <= 0:
            return []
        query = select(MessageRow).where(col(MessageRow.conversation) == conversation)
        if before_id is not None:
            query = query.where(col(MessageRow.id) < before_id)
        query = query.order_by(col(MessageRow.id).desc()).limit(limit)
        async with self._db.session() as session:
            rows = list(await session.exec(query))
        rows.reverse()
        return rows

    async def starting(self, prefix: str, since: float, limit: int = 200) -> list[MessageRow]:
        """Messages whose text starts with `prefix` (case-sensitive), sent since `since`,
        oldest first: what agents said to each other about one incident."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = (
            select(MessageRow)
            .where(col(MessageRow.text).like(f"{escaped}%", escape="\\"), MessageRow.ts >= since)
            .order_by(col(MessageRow.id))
            .limit(limit)
        )
        async with self._db.session() as session:
            return [r for r in await session.exec(query) if r.text.startswith(prefix)]

    async def conversations(self, participant: str) -> list[str]:
        """The conversations `participant` sent or received a message in, most recent first."""
        latest = func.max(col(MessageRow.id))
        query = (
            select(col(MessageRow.conversation))
            .where(
                or_(
                    col(MessageRow.sender) == participant,
                    col(MessageRow.recipient) == participant,
                )
            )
            .group_by(col(MessageRow.conversation))
            .order_by(latest.desc())
        )
        async with self._db.session() as session:
            conn = await session.connection()
            return list((await conn.execute(query)).scalars())

    async def count(self, conversation: str | None = None) -> int:
        """How many messages are stored, in one conversation or in all."""
        query = select(func.count()).select_from(MessageRow)
        if conversation is not None:
            query = query.where(col(MessageRow.conversation) == conversation)
        async with self._db.session() as session:
            conn = await session.connection()
            return int((await conn.execute(query)).scalar_one())
