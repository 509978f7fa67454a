"""Batches of rows written in one hand-over to a thread: the write-behind's path on SQLite.

Through SQLAlchemy's async engine each step of a write transaction (BEGIN, every statement,
COMMIT, handing the connection back) is a round trip to aiosqlite's thread, and each round trip
waits for a turn of the event loop to hear that it finished. On a loop busy with 50 API clients
a turn takes tens of milliseconds, so writing a few hundred chat messages took a second or more,
the bus's pending list filled meanwhile, and every chat turn waited for the write
(back-pressure): the slowest 5% of chats over the API were those waits. Here the whole
transaction is one call into one thread that keeps its own connection (the same pragmas as
the engine's): the loop hands the batch over once and hears back once.

Only `storage.database.Database` makes one, for a SQLite file; the repositories that use it keep
their SQLAlchemy path for other dialects.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

#: The pragmas every connection gets (`database._configure_sqlite` sets the same on the engine).
PRAGMAS = ("PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON")


class BatchWriter:
    """One connection in one thread; `run(work)` runs `work(connection)` in one transaction."""

    def __init__(self, path: Path, busy_timeout_ms: int) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webops-batches")
        self._connection: sqlite3.Connection | None = None

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """BEGIN IMMEDIATE, `work`, COMMIT in the writer's thread (ROLLBACK if anything
        fails). Cancelling the caller does not cut the transaction: it is waited for, so
        whoever holds the process's write lock holds it until SQLite's lock is let go too."""
        loop = asyncio.get_running_loop()
        done = loop.run_in_executor(self._thread, self._transaction, work)
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            await asyncio.wait([done])
            raise

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        connection = self._connection or self._connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = work(connection)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return result

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout_ms / 1000,
            isolation_level=None,  # transactions are begun here, explicitly
        )
        for pragma in PRAGMAS:
            connection.execute(pragma)
        self._connection = connection
        return connection

    async def close(self) -> None:
        """Close the connection in its thread, then let the thread go."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=False)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
