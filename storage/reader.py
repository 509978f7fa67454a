"""Read-only rows over the stdlib `sqlite3`, for the commands that only look.

`webops status`, `agent list` and friends start as a fresh process each time; importing
SQLAlchemy and SQLModel alone took ~0.35 s of that, seventeen times Python's own start-up. This
reader opens the file `mode=ro` (it never creates, migrates or locks it for writing, so a
`webops run` writing in WAL mode goes on while it reads) after the same check as the full path
(`inspection.inspect_database`: same refusals, same words), and hands back plain dataclasses
with the table's column names, which the agent/ rules read as they read the ORM's rows.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass, fields
from pathlib import Path

from storage.file_modes import warn_if_loose
from storage.inspection import DEFAULT_BUSY_TIMEOUT_MS, inspect_database
from storage.migrations import LATEST_VERSION


@dataclass(frozen=True)
class StoredAgent:
    """An `agent` row (storage/tables.py `AgentRow`), read without the ORM."""

    id: int
    name: str
    preset: str
    state: str
    openness: float
    conscientiousness: float
    extraversion: float
    agreeableness: float
    neuroticism: float
    created_at: float
    updated_at: float
    emotions: str
    emotions_at: float
    importance_since_reflection: float
    drift: str


_AGENT_COLUMNS = ", ".join(f.name for f in fields(StoredAgent))


class RowReader:
    """One read-only connection; every query runs in its own snapshot (autocommit reads)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def close(self) -> None:
        self._db.close()

    def agents(self) -> list[StoredAgent]:
        """Every agent, by name (as `AgentRepository.list` orders them)."""
        rows = self._db.execute(f"SELECT {_AGENT_COLUMNS} FROM agent ORDER BY name").fetchall()
        return [StoredAgent(*row) for row in rows]

    def agent(self, name: str) -> StoredAgent | None:
        row = self._db.execute(
            f"SELECT {_AGENT_COLUMNS} FROM agent WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else StoredAgent(*row)


def open_reader(path: Path) -> RowReader | None:
    """A reader on `path`, or None when the file is not there or its schema is older than this
    version's (the full path migrates it first; a reader must not write). A file that must not
    be touched is refused as `inspect_database` refuses it."""
    path = path.expanduser()
    if inspect_database(path) != LATEST_VERSION:
        return None
    warn_if_loose(path.parent, path, Path(f"{path}-wal"), Path(f"{path}-shm"))  # as the kernel
    uri = f"{path.resolve().as_uri()}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, timeout=DEFAULT_BUSY_TIMEOUT_MS / 1000)
    with closing(connection.cursor()) as cursor:
        cursor.execute(f"PRAGMA busy_timeout = {DEFAULT_BUSY_TIMEOUT_MS}")
    return RowReader(connection)
