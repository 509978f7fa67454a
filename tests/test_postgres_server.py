"""The PostgreSQL server the tests start is real: a TCP server on 127.0.0.1 that keeps what was
committed across a restart, with one fresh database per test."""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg

from tests.pg_cluster import PostgresCluster


async def _connect(url: str) -> asyncpg.Connection:
    parts = urlsplit(url)
    assert parts.scheme == "postgresql+asyncpg"
    assert parts.hostname == "127.0.0.1"
    return await asyncpg.connect(
        host=parts.hostname, port=parts.port, user=parts.username, database=parts.path[1:]
    )


async def test_a_fresh_database_on_a_real_server(pg_url: str) -> None:
    conn = await _connect(pg_url)
    try:
        version = await conn.fetchval("SHOW server_version_num")
        assert int(version) >= 150000
        assert await conn.fetchval("SHOW fsync") == "off"
        tables = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        assert tables == 0
        await conn.execute("CREATE TABLE target (id bigint PRIMARY KEY, name text UNIQUE)")
        await conn.execute("INSERT INTO target VALUES (1, 'shop')")
        try:
            await conn.execute("INSERT INTO target VALUES (2, 'shop')")
        except asyncpg.UniqueViolationError:
            pass
        else:
            raise AssertionError("a real server enforces UNIQUE")
        assert await conn.fetchval("SELECT count(*) FROM target") == 1
    finally:
        await conn.close()


async def test_committed_rows_survive_a_restart(pg_cluster: PostgresCluster) -> None:
    url = pg_cluster.create_database(pg_cluster.new_name("restart"))
    conn = await _connect(url)
    await conn.execute("CREATE TABLE kept (v int)")
    await conn.execute("INSERT INTO kept VALUES (7)")
    pg_cluster.restart()
    try:
        await conn.fetchval("SELECT 1")
    except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
        pass  # the fast restart cut this session, as it cuts a worker's
    else:
        raise AssertionError("a restart ends open sessions")
    finally:
        conn.terminate()
    again = await _connect(url)
    try:
        assert await again.fetchval("SELECT v FROM kept") == 7
    finally:
        await again.close()
