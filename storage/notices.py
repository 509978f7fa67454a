"""PostgreSQL's notices of what another node stored: `LISTEN webops` on a connection of its own.

Migration 17 makes every statement that writes incidents, approvals, agents or check samples
send `pg_notify('webops', <table>)` when its transaction commits. A follower that listens
reads at once instead of waiting out its poll interval, so a workbench sees another node's
incident within a few milliseconds of the commit. SQLite has no such thing and keeps the poll.

The listening connection is a raw asyncpg one, not the engine's pool: a pooled connection
goes back to the pool after each use and would stop hearing. When the server goes away (a
restart), it connects again with a growing pause, and on each (re)connection wakes the
follower once, since what was stored while it was away sent no notice to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from storage.location import ServerDatabase

logger = logging.getLogger("webops.notices")

#: The channel migration 17's triggers notify on.
CHANNEL = "webops"
#: First pause before connecting again, and the longest one (seconds).
BACKOFF_S = (0.5, 30.0)
#: How often a quiet connection is checked for having gone away (seconds).
ALIVE_CHECK_S = 5.0
#: How long connecting may take.
CONNECT_TIMEOUT_S = 10.0


def listen_dsn(server: ServerDatabase) -> str:
    """The server's URL as asyncpg itself takes it (no `+asyncpg` driver name)."""
    from sqlalchemy.engine import make_url

    url = make_url(server.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Notices:
    """Calls `wake(table)` for every notice on `CHANNEL` (and `wake("*")` on each connect)."""

    def __init__(self, server: ServerDatabase, wake: Callable[[str], None]) -> None:
        self.server = server
        self._wake = wake
        self._task: asyncio.Task[None] | None = None
        #: Set while a connection listens.
        self.listening = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="webops notices")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.listening.clear()

    async def _run(self) -> None:
        import asyncpg

        pause = BACKOFF_S[0]
        while True:
            try:
                connection = await asyncpg.connect(
                    listen_dsn(self.server), timeout=CONNECT_TIMEOUT_S
                )
            except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                logger.warning("listening on %s: %s; again in %.1fs", self.server.shown, exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, BACKOFF_S[1])
                continue
            pause = BACKOFF_S[0]
            try:
                await self._listen(connection)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("listening on %s: %s", self.server.shown, exc)
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await asyncio.shield(connection.close(timeout=2))

    async def _listen(self, connection: Any) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(CHANNEL, self._heard)
        self.listening.set()
        self._wake("*")  # what was stored before this connection listened
        while not connection.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), ALIVE_CHECK_S)

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self._wake(payload)
