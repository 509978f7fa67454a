"""Episodic memory: numbered ahead of time, written in bulk, read back as columns for recall.

The kernel writes episodes behind the agents' backs in batches of thousands, so the write path
skips the ORM: on SQLite one `executemany` through the driver inside one IMMEDIATE transaction
(about 40x the ORM's `add_all`, see STACK-NOTES.md); on any other dialect a Core `insert()` with
a list of dicts. Recall keeps its vectors in memory, so it reads only the four columns it
scores on, in one query.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from sqlalchemy import delete, func, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.database import Database
from storage.errors import DuplicateKey, StorageError
from storage.tables import EpisodeRow, IdSequenceRow

#: The column order of `EpisodeTuple` and of the bulk INSERT.
EPISODE_COLUMNS: tuple[str, ...] = (
    "id",
    "agent_id",
    "kind",
    "situation",
    "summary",
    "details",
    "importance",
    "embedding",
    "ts",
    "compressed",
)

#: (id, agent_id, kind, situation, summary, details, importance, embedding, ts, compressed)
EpisodeTuple = tuple[int, int, str, str | None, str, str | None, float, bytes, float, int]

_SQLITE_INSERT = (
    f"INSERT INTO episode ({', '.join(EPISODE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(EPISODE_COLUMNS))})"
)

#: Ids per `IN (...)`: well under SQLite's bound-parameter limit on every version.
_CHUNK = 500

_SEQUENCE_NAME = "episode"


@dataclass(frozen=True)
class EpisodeColumns:
    """One agent's episodes as parallel columns ordered by id, ready for `np.frombuffer`."""

    ids: list[int]
    embeddings: list[bytes]
    ts: list[float]
    importance: list[float]
    #: What kind of episode each is ("remedy", "check" ...): recall can keep to one kind.
    kinds: list[str] = field(default_factory=list)


def _batch_refused(exc: IntegrityError | sqlite3.IntegrityError) -> StorageError:
    orig = exc.orig if isinstance(exc, IntegrityError) else exc
    text = str(orig) if orig is not None else str(exc)
    if "UNIQUE" in text.upper() or "duplicate key" in text:
        return DuplicateKey(f"an episode id in the batch is already taken; nothing stored: {text}")
    return StorageError(f"the episode batch was refused; nothing stored: {text}")


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


class EpisodeRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def reserve_ids(self, count: int) -> range:
        """Take `count` consecutive episode ids that no other process (sharing the file) gets.

        One UPDATE ... RETURNING under the write lock: the increment and the read are one
        statement, so two processes cannot both see the same `next_id`.
        """
        if count < 0:
            raise ValueError(f"cannot reserve a negative number of ids ({count})")
        if count == 0:
            return range(0)
        statement = (
            update(IdSequenceRow)
            .where(col(IdSequenceRow.name) == _SEQUENCE_NAME)
            .values(next_id=col(IdSequenceRow.next_id) + count)
            .returning(col(IdSequenceRow.next_id))
        )
        async with self._db.session(write=True) as session:
            conn = await session.connection()
            end = int((await conn.execute(statement)).scalar_one())
        return range(end - count, end)

    async def add_many(self, rows: Sequence[EpisodeRow]) -> None:
        """Store `rows` all or nothing; see `add_tuples`."""
        await self.add_tuples(
            [
                (
                    r.id,
                    r.agent_id,
                    r.kind,
                    r.situation,
                    r.summary,
                    r.details,
                    r.importance,
                    r.embedding,
                    r.ts,
                    r.compressed,
                )
                for r in rows
            ]
        )

    async def add_tuples(self, rows: Sequence[EpisodeTuple], *, retry_safe: bool = False) -> None:
        """Store ready-made tuples (in `EPISODE_COLUMNS` order) in one transaction.

        All or nothing: a taken id or an unknown agent anywhere in the batch stores none of it
        and raises a `StorageError` (`DuplicateKey` for a taken id). With `retry_safe`, rows
        whose id is already stored are skipped instead: ids are unique per episode, so a row
        already there is this very row from a write whose commit was not seen (the kernel
        re-sends a batch after a cancelled flush).
        """
        if not rows:
            return
        if self._db.batches is not None:
            sql = _SQLITE_INSERT
            if retry_safe:
                sql = sql.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)
            try:  # the whole transaction in one hand-over to the batch writer's thread
                await self._db.write_batch(lambda connection: connection.executemany(sql, rows))
            except sqlite3.IntegrityError as exc:
                raise _batch_refused(exc) from exc
            return
        try:
            async with self._db.session(write=True) as session:
                conn = await session.connection()
                if self._db.engine.dialect.name == "sqlite":
                    # SQLAlchemy treats only a list as many parameter sets.
                    batch = rows if isinstance(rows, list) else list(rows)
                    sql = _SQLITE_INSERT
                    if retry_safe:
                        sql = sql.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)
                    await conn.exec_driver_sql(sql, batch)
                else:
                    if retry_safe:
                        ids = [r[0] for r in rows]
                        found = await conn.execute(
                            select(col(EpisodeRow.id)).where(col(EpisodeRow.id).in_(ids))
                        )
                        stored = set(found.scalars())
                        rows = [r for r in rows if r[0] not in stored]
                    dicts = [dict(zip(EPISODE_COLUMNS, r, strict=True)) for r in rows]
                    if dicts:
                        await conn.execute(insert(EpisodeRow), dicts)
        except IntegrityError as exc:
            raise _batch_refused(exc) from exc

    async def load_columns(self, agent_id: int) -> EpisodeColumns:
        """The columns recall scores on, for all of one agent's episodes, in one query.

        Sorted by id here rather than by `ORDER BY id`: the (agent_id, ts) index hands rows
        over in time order, which is nearly id order, so Python's sort is close to linear,
        while SQLite would copy every embedding through a temporary B-tree (about twice as
        slow at 100,000 episodes).
        """
        statement = sa_select(  # sqlmodel's `select` is typed for at most four columns
            col(EpisodeRow.id),
            col(EpisodeRow.embedding),
            col(EpisodeRow.ts),
            col(EpisodeRow.importance),
            col(EpisodeRow.kind),
        ).where(col(EpisodeRow.agent_id) == agent_id)
        async with self._db.session() as session:
            conn = await session.connection()
            rows = list((await conn.execute(statement)).all())
        rows.sort(key=itemgetter(0))
        return EpisodeColumns(
            ids=[r[0] for r in rows],
            embeddings=[r[1] for r in rows],
            ts=[r[2] for r in rows],
            importance=[r[3] for r in rows],
            kinds=[r[4] for r in rows],
        )

    async def load_column_blocks(
        self, agent_id: int, block: int = 32_768
    ) -> AsyncIterator[EpisodeColumns]:
        """`load_columns` a block of rows at a time, in id order, for an agent with so many
        episodes that all their embeddings at once (1 KB each) would not fit beside the
        index built from them: each block is read after the previous one is let go."""
        after = -1
        while True:
            statement = (
                sa_select(
                    col(EpisodeRow.id),
                    col(EpisodeRow.embedding),
                    col(EpisodeRow.ts),
                    col(EpisodeRow.importance),
                    col(EpisodeRow.kind),
                )
                .where(col(EpisodeRow.agent_id) == agent_id, col(EpisodeRow.id) > after)
                .order_by(col(EpisodeRow.id))
                .limit(block)
            )
            async with self._db.session() as session:
                conn = await session.connection()
                rows = list((await conn.execute(statement)).all())
            if not rows:
                return
            after = rows[-1][0]
            yield EpisodeColumns(
                ids=[r[0] for r in rows],
                embeddings=[r[1] for r in rows],
                ts=[r[2] for r in rows],
                importance=[r[3] for r in rows],
                kinds=[r[4] for r in rows],
            )

    async def get(self, ids: Sequence[int]) -> list[EpisodeRow]:
        """The episodes with these ids, in the order asked; ids not stored are skipped."""
        found: dict[int, EpisodeRow] = {}
        async with self._db.session() as session:
            for chunk in _chunks(list(dict.fromkeys(ids))):
                rows = await session.exec(select(EpisodeRow).where(col(EpisodeRow.id).in_(chunk)))
                found.update((row.id, row) for row in rows)
        return [found[i] for i in ids if i in found]

    async def recent(
        self, agent_id: int, limit: int = 50, kind: str | None = None
    ) -> list[EpisodeRow]:
        """Newest first (by time, then id)."""
        query = select(EpisodeRow).where(col(EpisodeRow.agent_id) == agent_id)
        if kind is not None:
            query = query.where(col(EpisodeRow.kind) == kind)
        query = query.order_by(col(EpisodeRow.ts).desc(), col(EpisodeRow.id).desc()).limit(limit)
        async with self._db.session() as session:
            return list(await session.exec(query))

    async def count(self, agent_id: int) -> int:
        statement = (
            select(func.count()).select_from(EpisodeRow).where(col(EpisodeRow.agent_id) == agent_id)
        )
        async with self._db.session() as session:
            conn = await session.connection()
            return int((await conn.execute(statement)).scalar_one())

    async def compress(self, agent_id: int, before_ts: float) -> int:
        """Drop the details of one agent's episodes older than `before_ts`; return how many.

        Summary, embedding and importance stay, so compressed episodes are still recalled.
        """
        statement = (
            update(EpisodeRow)
            .where(col(EpisodeRow.agent_id) == agent_id)
            .where(col(EpisodeRow.compressed) == 0)
            .where(col(EpisodeRow.ts) < before_ts)
            .values(details=None, compressed=1)
        )
        async with self._db.session(write=True) as session:
            conn = await session.connection()
            return int((await conn.execute(statement)).rowcount)

    async def trim(self, agent_id: int, keep: int) -> list[int]:
        """Cap an agent's episodes at `keep`: forget the least important, oldest first.

        Returns the deleted ids so the caller can drop them from its in-memory index. The
        choice and the delete share one write transaction, so a concurrent writer cannot slip
        rows in between.
        """
        if keep < 0:
            raise ValueError(f"cannot keep a negative number of episodes ({keep})")
        of_agent = col(EpisodeRow.agent_id) == agent_id
        async with self._db.session(write=True) as session:
            conn = await session.connection()
            total = int(
                (
                    await conn.execute(select(func.count()).select_from(EpisodeRow).where(of_agent))
                ).scalar_one()
            )
            surplus = total - keep
            if surplus <= 0:
                return []
            victims = list(
                (
                    await conn.execute(
                        select(col(EpisodeRow.id))
                        .where(of_agent)
                        .order_by(
                            col(EpisodeRow.importance), col(EpisodeRow.ts), col(EpisodeRow.id)
                        )
                        .limit(surplus)
                    )
                ).scalars()
            )
            for chunk in _chunks(victims):
                await conn.execute(delete(EpisodeRow).where(col(EpisodeRow.id).in_(chunk)))
        return victims
