"""The one SQLite file: checked before it is touched, configured on every connection, migrated.

All SQLite-specific statements (pragmas, `BEGIN IMMEDIATE`, the header check) are in this module
behind `engine.dialect.name == "sqlite"`, so another SQLAlchemy dialect is a new URL, not a
rewrite.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DatabaseError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.batch_writer import BatchWriter
from storage.errors import (
    DatabaseBusy,
    DatabaseUnreadable,
    ReadOnly,
    StorageError,
)
from storage.file_modes import create_private_file, make_private_folder, warn_if_loose
from storage.inspection import (
    DEFAULT_BUSY_TIMEOUT_MS,
    inspect_database,
    storage_error_of,
)
from storage.migrations import LATEST_VERSION, apply_migrations

T = TypeVar("T")

_READ_ONLY = (
    "read-only (--read-only): this would change the database; run it without --read-only to "
    "change anything"
)


def _prepare_file(path: Path) -> Path:
    """Check the file and create its folder; file-system work, so it runs off the event loop."""
    path = path.expanduser()
    inspect_database(path)
    try:
        make_private_folder(path.parent)
    except OSError as exc:
        raise DatabaseUnreadable(f"cannot create {path.parent}: {exc.strerror}") from exc
    try:
        create_private_file(path)  # 0600 before SQLite makes it (and -wal/-shm after it)
    except OSError as exc:
        raise DatabaseUnreadable(f"cannot create {path}: {exc.strerror}") from exc
    warn_if_loose(path.parent, path, Path(f"{path}-wal"), Path(f"{path}-shm"))
    return path


def _set_wal(path: Path, busy_timeout_ms: int) -> None:
    try:
        with closing(sqlite3.connect(path, timeout=busy_timeout_ms / 1000)) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.Error as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise DatabaseBusy(
                f"the database is busy (another process holds the lock): {text}"
            ) from exc
        raise StorageError(f"database error: {text}") from exc


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    """Pragmas on every connection, and transactions that we begin ourselves.

    pysqlite's own transaction handling skips BEGIN before DDL, which would make migrations
    non-atomic; with `isolation_level = None` and an explicit BEGIN they are one transaction.
    Write sessions begin IMMEDIATE so two processes never deadlock upgrading a read lock.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            f"PRAGMA busy_timeout = {int(busy_timeout_ms)}",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _storage_error(exc: DBAPIError | sqlite3.Error, path: Path | None = None) -> StorageError:
    """The driver's error as one line. The whole DatabaseError family is mapped, not only
    OperationalError: a damaged page raises a bare DatabaseError ("malformed"), issue 18. A
    file or folder that cannot be written is named, with why (read-only or permission)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(orig) if orig is not None else str(exc)
    return storage_error_of(text, path)


class Database:
    """An open database file. Repositories borrow sessions from it; nothing else does."""

    def __init__(self, engine: AsyncEngine, path: Path | None) -> None:
        self.engine = engine
        self.path = path
        self._reader = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        writer_engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._writer = async_sessionmaker(
            writer_engine, class_=AsyncSession, expire_on_commit=False
        )
        #: Set for `webops --read-only`: every write session is refused (nothing changes).
        self.read_only = False
        # Writers of this process queue here instead of in SQLite's busy handler, which
        # sleeps in steps of up to 100 ms; other processes still meet the busy timeout.
        self._write_lock = asyncio.Lock()
        #: The write-behind's batches in one hand-over to a thread (SQLite only; see
        #: storage/batch_writer.py). None: repositories write through the engine.
        self.batches: BatchWriter | None = None

    @classmethod
    async def open(cls, path: Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Database:
        """Check, open and migrate the file at `path`, creating it (and its folder) if missing."""
        path = await asyncio.to_thread(_prepare_file, path)
        engine = create_async_engine(URL.create("sqlite+aiosqlite", database=str(path)))
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine, busy_timeout_ms)
        database = cls(engine, path)
        try:
            await database.migrate()
            if engine.dialect.name == "sqlite":
                await database._use_wal()
                database.batches = BatchWriter(path, busy_timeout_ms)
        except BaseException:
            await engine.dispose()
            raise
        return database

    async def migrate(self, target: int = LATEST_VERSION) -> int:
        """Apply pending migrations in one transaction; return the version found before."""
        try:
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with conn.begin():
                    return await conn.run_sync(apply_migrations, target)
        except DatabaseError as exc:
            raise _storage_error(exc, self.path) from exc

    async def _use_wal(self) -> None:
        """WAL is set once the file has proved to be ours and migrated: journal_mode is stored
        in the file, so a file refused by the migrations keeps its own mode (issue 18)."""
        assert self.path is not None
        await self.engine.dispose()  # connections opened before keep their old mode
        await asyncio.to_thread(_set_wal, self.path, DEFAULT_BUSY_TIMEOUT_MS)

    async def close(self) -> None:
        if self.batches is not None:
            await self.batches.close()
            self.batches = None
        await self.engine.dispose()

    async def write_batch(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(connection)` in one write transaction in the batch writer's thread, queued
        behind this process's other writers like `session(write=True)`; only when `batches`
        is set (a SQLite file). A raised `sqlite3.IntegrityError` is the repository's to map."""
        assert self.batches is not None, "write_batch needs a SQLite file (see `batches`)"
        if self.read_only:
            raise ReadOnly(_READ_ONLY)
        async with self._write_lock:
            try:
                return await self.batches.run(work)
            except sqlite3.IntegrityError:
                raise
            except sqlite3.Error as exc:
                raise _storage_error(exc, self.path) from exc

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed when the block ends without error."""
        if not write:
            try:
                async with self._reader() as session, session.begin():
                    yield session
            except IntegrityError:
                raise  # a repository's to map (a duplicate name is not a damaged file)
            except DatabaseError as exc:
                raise _storage_error(exc, self.path) from exc
            return
        if self.read_only:
            raise ReadOnly(_READ_ONLY)
        async with self._write_lock:
            try:
                async with self._writer() as session, session.begin():
                    yield session
            except IntegrityError:
                raise  # a repository's to map (a duplicate name is not a damaged file)
            except DatabaseError as exc:
                raise _storage_error(exc, self.path) from exc
