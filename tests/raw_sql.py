"""Reach a test database behind the product's back, on either backend.

Tests that tamper with stored rows (the audit chain) or read them as another program would pass
the `db_path` fixture here: a SQLite file goes through sqlite3, a `postgresql+asyncpg://` URL
through asyncpg. Statements use `?` placeholders; they become `$1, $2...` for PostgreSQL.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def raw(location: Path | str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one statement, commit it, and return the rows it produced."""
    if isinstance(location, str) and "://" in location:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, _pg(location, sql, params)).result()
    with sqlite3.connect(location) as conn:
        return conn.execute(sql, params).fetchall()


def table_columns(location: Path | str, table: str) -> dict[str, bool]:
    """Column name -> NOT NULL, as the database itself stores the table."""
    if isinstance(location, str) and "://" in location:
        rows = raw(
            location,
            "SELECT column_name, is_nullable = 'NO' FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ?",
            table,
        )
        return {name: bool(notnull) for name, notnull in rows}
    return {row[1]: bool(row[3]) for row in raw(location, f"PRAGMA table_info({table})")}


async def _pg(url: str, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    import asyncpg

    parts = urlsplit(url)
    counter = iter(range(1, len(params) + 1))
    statement = re.sub(r"\?", lambda _: f"${next(counter)}", sql)
    conn = await asyncpg.connect(
        host=parts.hostname,
        port=parts.port,
        user=parts.username,
        password=parts.password,
        database=parts.path.lstrip("/"),
    )
    try:
        return [tuple(row) for row in await conn.fetch(statement, *params)]
    finally:
        await conn.close()
