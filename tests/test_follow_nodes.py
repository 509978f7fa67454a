"""What another node stores reaches this one's event stream and workbench (issue 21, item 3):
a pending approval, its decision, and the agent's feelings, stored by CLI processes beside a
real `webops serve` (its API event stream) or the workbench (its pilot). On SQLite the
follower's poll carries them; on PostgreSQL a NOTIFY from migration 17's triggers wakes it.

Real parts: real `webops` subprocesses, a real server on 127.0.0.1, the HTTP service the
runbook fixes, a real SQLite file or a real PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.core.kernel import Kernel
from tests.serve_process import ServeProcess
from tests.service import ControlledService, define_shop
from tests.sse import frames

WEBOPS = Path(sys.executable).with_name("webops")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, db_path: Path) -> str:
    """The database every process here shares: a file, or a server's database."""
    if request.param == "sqlite":
        return str(db_path)
    url: str = request.getfixturevalue("pg_url")
    return url


async def _webops(database: str, *args: str) -> str:
    """Run `webops --db DATABASE ARGS` as another process does; its output."""
    process = await asyncio.create_subprocess_exec(
        str(WEBOPS), "--db", database, *args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), 90)
    text = out.decode()
    assert "Traceback" not in text, text
    return text


async def _prepare(database: str, service: ControlledService) -> None:
    async with await Kernel.open(database) as kernel:
        await define_shop(kernel, service)
        await kernel.create_agent("ben", "bold")


async def _frames(lines: AsyncIterator[str], into: list[dict[str, Any]]) -> None:
    """Collect server-sent events (kind, data, arrival time) until the stream ends."""
    async for fields in frames(lines):
        data = json.loads(fields["data"])
        into.append({"kind": fields["event"], "arrived": time.time()} | data)


async def _until(check: Any, seconds: float = 40) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return bool(check())


def test_serve_streams_approvals_and_feelings_stored_by_other_processes(
    database: str, service: ControlledService
) -> None:
    service.healthy = False

    async def scenario() -> list[dict[str, Any]]:
        await _prepare(database, service)
        made = json.loads(
            await _webops(database, "token", "create", "watch", "--role", "viewer", "--json")
        )
        server = await asyncio.to_thread(ServeProcess, database)
        events: list[dict[str, Any]] = []
        headers = {"Authorization": f"Bearer {made['token']}"}
        try:
            async with (
                httpx.AsyncClient(base_url=server.url, headers=headers, timeout=90) as client,
                client.stream("GET", "/api/events") as stream,
            ):
                lines = stream.aiter_lines()
                assert await anext(lines) == ": connected"
                reader = asyncio.create_task(_frames(lines, events))

                def of(kind: str, **fields: object) -> list[dict[str, Any]]:
                    return [
                        e
                        for e in events
                        if e["kind"] == kind and all(e.get(k) == v for k, v in fields.items())
                    ]

                # Another process asks for an approval (a high-risk remedy waits for a person).
                await _webops(database, "task", "ben", "run fix-shop on shop")
                assert await _until(lambda: of("approval_requested")), events
                asked = of("approval_requested")[0]
                assert asked["action"] == "fix-shop" and asked["agent"] == "ben"
                # Another process approves it: it runs there, ben is praised there.
                await _webops(database, "approvals", "--approve", str(asked["approval_id"]))
                assert await _until(
                    lambda: {e["status"] for e in of("approval_decided")} & {"approved", "executed"}
                ), events
                assert await _until(
                    lambda: of("emotions_changed", agent="ben", cause="stored by another process")
                ), events
                reader.cancel()
        finally:
            code = await asyncio.to_thread(server.stop, signal.SIGTERM)
        assert code == 0, server.tail()
        assert "Traceback" not in server.tail(200)
        return events

    events = asyncio.run(scenario())
    assert service.fixes == 1  # run once, by the process that approved
    asked = next(e for e in events if e["kind"] == "approval_requested")
    assert [e["approval_id"] for e in events if e["kind"] == "approval_requested"] == [
        asked["approval_id"]
    ]  # told once
    backend = "postgresql" if "://" in database else "sqlite"
    print(f"\nfollow.{backend}.approval_requested_s = {asked['arrived'] - asked['ts']:.3f}")


@pytest.mark.postgres
async def test_a_notice_wakes_the_follower_long_before_its_poll(
    pg_url: str, service: ControlledService
) -> None:
    """With the poll set to 30 s, another process's approval still arrives within a second
    of being stored: PostgreSQL told the follower."""
    from agent.events import ApprovalDecided, ApprovalRequested, KernelEvent

    await _prepare(pg_url, service)
    heard: list[tuple[float, ApprovalRequested]] = []
    decided: list[tuple[float, ApprovalDecided]] = []

    def hear(event: KernelEvent) -> None:
        if isinstance(event, ApprovalRequested):
            heard.append((time.time(), event))
        elif isinstance(event, ApprovalDecided):
            decided.append((time.time(), event))

    async with await Kernel.open(pg_url) as kernel:
        kernel.follower.interval_s = 30
        kernel.bus.subscribe(hear)
        kernel.follower.start()
        notices = kernel.follower.notices
        assert notices is not None
        await asyncio.wait_for(notices.listening.wait(), 30)
        await asyncio.sleep(0.5)  # the read the connection's first wake-up started is done
        await _webops(pg_url, "task", "ben", "run fix-shop on shop")
        assert await _until(lambda: bool(heard), 10)
        arrived, event = heard[0]
        delay = arrived - event.ts
        print(f"\nfollow.postgresql.notify_s = {delay:.3f}")
        assert delay < 1.0, delay
        assert len(heard) == 1

        # The listening connection goes away (as in a server restart): it comes back by itself
        # and another process's decision is woken for again.
        listener = await _listener_pid(pg_url)
        assert listener is not None
        await _sql(pg_url, f"select pg_terminate_backend({listener})")
        deadline = time.monotonic() + 30
        while await _listener_pid(pg_url) in (None, listener) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        assert await _listener_pid(pg_url) not in (None, listener)
        await asyncio.sleep(0.5)
        await _webops(pg_url, "approvals", "--deny", str(event.approval_id))
        assert await _until(lambda: bool(decided), 10)
        arrived, answer = decided[0]
        assert answer.status == "denied"
        assert arrived - answer.ts < 1.0, arrived - answer.ts


async def _sql(url: str, sql: str) -> Any:
    """One value from the server, on a connection of the test's own (no psql needed)."""
    import asyncpg

    from storage.location import ServerDatabase, locate
    from storage.notices import listen_dsn

    server = locate(url)
    assert isinstance(server, ServerDatabase)
    connection = await asyncpg.connect(listen_dsn(server))
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


async def _listener_pid(url: str) -> int | None:
    """The server process of the connection that LISTENs on this database, if one does."""
    found = await _sql(
        url,
        "select pid from pg_stat_activity where datname = current_database() "
        "and query like 'LISTEN%' and pid <> pg_backend_pid()",
    )
    return int(found) if found is not None else None
