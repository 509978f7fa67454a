"""The database: one SQLite file by default, or a PostgreSQL server a fleet shares (issue 21).

Checked before it is touched, configured on every connection, migrated. All SQLite-specific
statements (pragmas, `BEGIN IMMEDIATE`, the header check) are in this module behind
`engine.dialect.name == "sqlite"`; a server is the same models and migrations on another URL
(`_open_server`).
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
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.batch_writer import BatchWriter
from storage.errors import (
    DatabaseBusy,
    DatabaseUnreadable,
    InvalidInput,
    ReadOnly,
    StorageError,
)
from storage.file_modes import create_private_file, make_private_folder, warn_if_loose
from storage.inspection import (
    DEFAULT_BUSY_TIMEOUT_MS,
    inspect_database,
    storage_error_of,
)
from storage.location import Location, ServerDatabase, locate
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


#: Connections a server database keeps open per process (a worker's checks write in batches;
#: the workbench reads a few tables at once).
SERVER_POOL_SIZE = 5
#: How long connecting to a server may take before the command says it cannot reach it.
SERVER_CONNECT_TIMEOUT_S = 10.0
#: Where a server database's keys live on this node unless `WEBOPS_KEYS` names a folder.
KEYS_ENV = "WEBOPS_KEYS"


def _server_keys_folder() -> Path:
    import os

    from platformdirs import user_data_path

    named = os.environ.get(KEYS_ENV)
    return Path(named).expanduser() if named else user_data_path("webops-tui")


def _server_error(exc: BaseException, server: ServerDatabase) -> StorageError:
    """A server's refusal as one line that names the server (never its password)."""
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split()) or type(orig).__name__
    if isinstance(orig, ConnectionRefusedError | OSError | TimeoutError) or "connect" in text:
        return DatabaseUnreadable(f"cannot reach PostgreSQL at {server.shown}: {text}")
    if "does not exist" in text and "database" in text:
        return DatabaseUnreadable(
            f"{text} on {server.shown}; create it first (createdb, or CREATE DATABASE)"
        )
    return StorageError(f"database error: {text}")


def _storage_error(exc: DBAPIError | sqlite3.Error, path: Path | None = None) -> StorageError:
    """The driver's error as one line. The whole DatabaseError family is mapped, not only
    OperationalError: a damaged page raises a bare DatabaseError ("malformed"), issue 18. A
    file or folder that cannot be written is named, with why (read-only or permission)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(orig) if orig is not None else str(exc)
    return storage_error_of(text, path)


class Database:
    """An open database file. Repositories borrow sessions from it; nothing else does."""

    def __init__(
        self, engine: AsyncEngine, path: Path | None, server: ServerDatabase | None = None
    ) -> None:
        self.engine = engine
        #: The SQLite file; None on a server (and for an in-memory database).
        self.path = path
        #: The PostgreSQL server's database, when it is one.
        self.server = server
        #: What key files (secrets, the audit chain) are named after: the file, or a name for
        #: the server in this node's data folder (storage/location.py `keys_beside`).
        self.keys_path: Path | None = (
            path if server is None else server.keys_beside(_server_keys_folder())
        )
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

    @property
    def shown(self) -> str:
        """The database as people may be told it: the file, or the URL without a password."""
        if self.server is not None:
            return self.server.shown
        return str(self.path) if self.path is not None else "(in memory)"

    @classmethod
    async def open(
        cls, location: Location | str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
    ) -> Database:
        """Check, open and migrate the file at `location`, creating it (and its folder) if
        missing; or open and migrate a server's database (a `postgresql://` URL)."""
        location = locate(location)
        if isinstance(location, ServerDatabase):
            return await cls._open_server(location)
        path = await asyncio.to_thread(_prepare_file, location)
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

    @classmethod
    async def _open_server(cls, server: ServerDatabase) -> Database:
        """Open and migrate a PostgreSQL database. Connections are tested before use
        (`pool_pre_ping`), so a server restarted under a running worker costs the statements
        under way, not the process: the next session connects again."""
        try:
            engine = create_async_engine(
                server.url,
                pool_pre_ping=True,
                pool_size=SERVER_POOL_SIZE,
                connect_args={"timeout": SERVER_CONNECT_TIMEOUT_S},
            )
        except ModuleNotFoundError:
            raise InvalidInput(
                "PostgreSQL needs the asyncpg driver: pip install 'webops-tui[postgres]'"
            ) from None
        database = cls(engine, None, server)
        try:
            await database.migrate()
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
        except DBAPIError as exc:
            raise self._error(exc) from exc
        except OSError as exc:  # a server that cannot be reached
            raise self._error(exc) from exc

    async def server_refusal(self, timeout_s: float = 2.0) -> str | None:
        """Why the server cannot be used now (in words that show no address or error text,
        for `/api/health`), or None when it answers, or for a file."""
        if self.server is None:
            return None
        try:
            async with asyncio.timeout(timeout_s), self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except (DBAPIError, OSError, TimeoutError):
            return "the database server does not answer"
        return None

    def _error(self, exc: BaseException) -> StorageError:
        if self.server is not None:
            return _server_error(exc, self.server)
        assert isinstance(exc, DBAPIError | sqlite3.Error)
        return _storage_error(exc, self.path)

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
            except DBAPIError as exc:
                raise self._error(exc) from exc
            except OSError as exc:  # a server that cannot be reached (restarting, say)
                raise self._error(exc) from exc
            return
        if self.read_only:
            raise ReadOnly(_READ_ONLY)
        async with self._write_lock:
            try:
                async with self._writer() as session, session.begin():
                    yield session
            except IntegrityError:
                raise  # a repository's to map (a duplicate name is not a damaged file)
            except DBAPIError as exc:
                raise self._error(exc) from exc
            except OSError as exc:
                raise self._error(exc) from exc
