"""Bulk episode writes: `EpisodeRepository.add_tuples` against raw `sqlite3.executemany`.

Both write the same 100,000 rows into a fresh file with the same schema and pragmas (WAL,
synchronous=NORMAL, foreign keys on). The floor is one transaction; the repository gets the
batches of 2,000 that the kernel's write-behind flush hands it, one transaction each.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import statistics
import tempfile
import time
from contextlib import closing
from pathlib import Path

from storage.database import Database
from storage.migrations import APPLICATION_ID, LATEST_VERSION, MIGRATIONS
from storage.repositories.agents import AgentRepository
from storage.repositories.episodes import EPISODE_COLUMNS, EpisodeRepository, EpisodeTuple
from storage.tables import AgentRow
from tests.benchmarks.figures import Figure

ROWS = 100_000
BATCH = 2_000
REPEAT = 3
AGENT_ID = 1
EMBEDDING_BYTES = 1_024

_KINDS = ("stimulus", "decision", "outcome", "chat")
_SITUATIONS = ("http.5xx", "http.latency", "disk.full", "cert.expiry", None)


def _rows(n: int) -> list[EpisodeTuple]:
    rng = random.Random(42)
    rows: list[EpisodeTuple] = []
    for i in range(1, n + 1):
        status = rng.choice((500, 502, 503, 504))
        summary = f"GET https://shop.example.com/checkout returned {status} after {i % 997} ms"
        details = json.dumps(
            {
                "url": "https://shop.example.com/checkout",
                "status": status,
                "elapsed_ms": i % 997,
                "attempt": i % 5,
                "headers": {"server": "nginx/1.27", "retry-after": "30"},
            }
        )
        rows.append(
            (
                i,
                AGENT_ID,
                _KINDS[i % len(_KINDS)],
                _SITUATIONS[i % len(_SITUATIONS)],
                summary,
                details,
                rng.random(),
                rng.randbytes(EMBEDDING_BYTES),
                1_800_000_000.0 + i * 0.01,
                0,
            )
        )
    return rows


def _agent() -> AgentRow:
    return AgentRow(
        id=AGENT_ID,
        name="bench",
        openness=0.5,
        conscientiousness=0.5,
        extraversion=0.5,
        agreeableness=0.5,
        neuroticism=0.5,
        created_at=0.0,
        updated_at=0.0,
    )


def _sqlite3_rate(rows: list[EpisodeTuple], path: Path) -> float:
    """The floor: the stdlib driver, one executemany in one transaction."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN")
        for migration in MIGRATIONS:
            for statement in migration.statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(
            "INSERT INTO agent (id, name, openness, conscientiousness, extraversion, "
            "agreeableness, neuroticism, created_at) VALUES (?, 'bench', .5, .5, .5, .5, .5, 0)",
            (AGENT_ID,),
        )
        conn.execute("COMMIT")
        insert = (
            f"INSERT INTO episode ({', '.join(EPISODE_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(EPISODE_COLUMNS))})"
        )
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(insert, rows)
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        assert conn.execute("SELECT count(*) FROM episode").fetchone()[0] == len(rows)
    return len(rows) / elapsed


async def _repository_rate(rows: list[EpisodeTuple], path: Path, batch: int) -> float:
    """The repository as the kernel's flush uses it: one call (one transaction) per batch."""
    db = await Database.open(path)
    try:
        await AgentRepository(db).add(_agent())
        repo = EpisodeRepository(db)
        batches = [rows[i : i + batch] for i in range(0, len(rows), batch)]
        started = time.perf_counter()
        for chunk in batches:
            await repo.add_tuples(chunk)
        elapsed = time.perf_counter() - started
        assert await repo.count(AGENT_ID) == len(rows)
    finally:
        await db.close()
    return len(rows) / elapsed


def run() -> list[Figure]:
    rows = _rows(ROWS)
    floor: list[float] = []
    ours: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(REPEAT):
            floor.append(_sqlite3_rate(rows, Path(tmp) / f"sqlite3-{attempt}.db"))
            ours.append(
                asyncio.run(_repository_rate(rows, Path(tmp) / f"repo-{attempt}.db", BATCH))
            )
    a, b = statistics.median(floor), statistics.median(ours)
    return [
        Figure(
            "storage.bulk_write_ratio_vs_sqlite3",
            b / a,
            "x",
            ">= 0.3",
            f"add_tuples in batches of {BATCH:,}: {b:,.0f} rows/s; raw sqlite3 executemany in "
            f"one transaction: {a:,.0f} rows/s ({ROWS:,} rows, median of {REPEAT})",
        )
    ]
