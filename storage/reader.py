"""Read-only rows over the stdlib `sqlite3`, for the commands that only look.

`webops status`, `agent list` and friends start as a fresh process each time; importing
SQLAlchemy and SQLModel alone took ~0.35 s of that, seventeen times Python's own start-up. This
reader opens the file with `query_only` (it never creates, migrates or locks it for writing,
so a `webops run` writing in WAL mode goes on while it reads) after the same check as the full path
(`inspection.inspect_database`: same refusals, same words), and hands back plain dataclasses
with the table's column names, which the agent/ rules read as they read the ORM's rows.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from storage.file_modes import warn_if_loose
from storage.inspection import DEFAULT_BUSY_TIMEOUT_MS, inspect_database, storage_error_of
from storage.migrations import LATEST_VERSION
from storage.writable import write_refusal


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


@dataclass(frozen=True)
class StoredRecord:
    """An `action_record` row: how an agent fared with one action on one kind of target."""

    action: str
    target_kind: str
    successes: int
    failures: int
    approved_successes: int
    approved_streak: int


@dataclass(frozen=True)
class StoredSkill:
    """A `skill` row: an agent's proficiency with one skill."""

    name: str
    proficiency: float
    practice_count: int
    successes: int
    failures: int
    learned_at: float
    last_practiced_at: float | None


@dataclass(frozen=True)
class StoredEpisode:
    """An `episode` row without its embedding (what `webops memory` lists)."""

    id: int
    kind: str
    summary: str
    details: str | None
    ts: float
    situation: str | None


@dataclass(frozen=True)
class StoredFact:
    """A `fact` row: something an agent knows, with its confidence and sources."""

    id: int
    subject: str
    predicate: str
    value: str
    confidence: float
    sources: str
    evidence: int
    updated_at: float


@dataclass(frozen=True)
class StoredProcedure:
    """A `procedure` row: steps that resolved a situation, one version of them."""

    id: int
    situation: str
    steps: str
    version: int
    parent_id: int | None
    active: int
    successes: int
    failures: int
    sources: str


@dataclass(frozen=True)
class StoredApproval:
    """An `approval` row: an action an agent asked a person to allow."""

    id: int
    action: str
    target: str | None
    risk: str
    status: str
    summary: str
    explanation: str
    result: str | None
    created_at: float
    decided_at: float | None
    decided_by: str | None


def _columns(kind: type, table: str = "") -> str:
    prefix = f"{table}." if table else ""
    return ", ".join(prefix + f.name for f in fields(kind))


_AGENT_COLUMNS = _columns(StoredAgent)
#: Tables whose rows a read command's table output mentions (the kernel path prints them).
NOTICED_TABLES = ("notification", "silence", "maintenance_window")


class RowReader:
    """One read-only connection; every query runs in its own snapshot (autocommit reads)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._connection = connection
        self._path = path

    def _query(self, sql: str, parameters: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """All rows of `sql`; SQLite's errors as the kernel's path words them (one line)."""
        try:
            return self._connection.execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise storage_error_of(str(exc), self._path) from exc

    def close(self) -> None:
        self._connection.close()

    def agents(self) -> list[StoredAgent]:
        """Every agent, by name (as `AgentRepository.list` orders them)."""
        rows = self._query(f"SELECT {_AGENT_COLUMNS} FROM agent ORDER BY name")
        return [StoredAgent(*row) for row in rows]

    def agent(self, name: str) -> StoredAgent | None:
        rows = self._query(f"SELECT {_AGENT_COLUMNS} FROM agent WHERE name = ?", (name,))
        return StoredAgent(*rows[0]) if rows else None

    def records(self, agent_id: int) -> list[StoredRecord]:
        """The agent's action records (in `ActionRecordRepository.for_agent`'s order)."""
        query = (
            f"SELECT {_columns(StoredRecord)} FROM action_record WHERE agent_id = ? "
            "ORDER BY action, target_kind"
        )
        return [StoredRecord(*row) for row in self._query(query, (agent_id,))]

    def skills(self, agent_id: int) -> list[StoredSkill]:
        """The agent's skills (in `SkillRepository.for_agent`'s order)."""
        query = f"SELECT {_columns(StoredSkill)} FROM skill WHERE agent_id = ? ORDER BY name"
        return [StoredSkill(*row) for row in self._query(query, (agent_id,))]

    def memory_counts(self, agent_id: int) -> dict[str, int]:
        """How many episodes, facts and active procedures the agent has (`webops status`)."""
        (counts,) = self._query(
            "SELECT (SELECT count(*) FROM episode WHERE agent_id = ?), "
            "(SELECT count(*) FROM fact WHERE agent_id = ?), "
            "(SELECT count(*) FROM procedure WHERE agent_id = ? AND active = 1)",
            (agent_id,) * 3,
        )
        return dict(zip(("episodic", "semantic", "procedural"), counts, strict=True))

    def episodes(self, agent_id: int, limit: int) -> list[StoredEpisode]:
        """The agent's newest episodes (in `EpisodeRepository.recent`'s order)."""
        query = (
            f"SELECT {_columns(StoredEpisode)} FROM episode WHERE agent_id = ? "
            "ORDER BY ts DESC, id DESC LIMIT ?"
        )
        return [StoredEpisode(*row) for row in self._query(query, (agent_id, limit))]

    def facts(self, agent_id: int) -> list[StoredFact]:
        """The agent's facts, most recently revised first (as `FactRepository.list`: 500)."""
        query = (
            f"SELECT {_columns(StoredFact)} FROM fact WHERE agent_id = ? "
            "ORDER BY updated_at DESC, id DESC LIMIT 500"
        )
        return [StoredFact(*row) for row in self._query(query, (agent_id,))]

    def procedures(self, agent_id: int) -> list[StoredProcedure]:
        """Every version of the agent's procedures (in `ProcedureRepository.list`'s order)."""
        query = (
            f"SELECT {_columns(StoredProcedure)} FROM procedure WHERE agent_id = ? "
            "ORDER BY situation, version DESC, id"
        )
        return [StoredProcedure(*row) for row in self._query(query, (agent_id,))]

    def approvals(self, status: str) -> list[tuple[StoredApproval, str]]:
        """The first 100 approvals in `status`, by id, each with its agent's name (as
        `ApprovalRepository.list`)."""
        query = (
            f"SELECT {_columns(StoredApproval, 'approval')}, agent.name FROM approval "
            "JOIN agent ON agent.id = approval.agent_id WHERE approval.status = ? "
            "ORDER BY approval.id LIMIT 100"
        )
        return [(StoredApproval(*row[:-1]), row[-1]) for row in self._query(query, (status,))]

    def runbook_risks(self) -> dict[str, str]:
        """Each stored runbook's risk, as written (`low`, `high`, ...), by name."""
        return dict(self._query("SELECT name, risk FROM runbook"))

    def any_rows(self, table: str) -> bool:
        """Whether `table` (one of `NOTICED_TABLES`) holds a row."""
        if table not in NOTICED_TABLES:
            raise ValueError(f"not a table the reader looks into: {table}")
        return bool(self._query(f"SELECT 1 FROM {table} LIMIT 1"))


def open_reader(path: Path) -> RowReader | None:
    """A reader on `path`, or None when the kernel's path must answer: the file is not there,
    its schema is older than this version's (the kernel migrates it first; a reader must not
    write), or its folder or file cannot be written (the kernel refuses that, in its words). A
    file that must not be touched is refused as `inspect_database` refuses it."""
    path = path.expanduser()
    if inspect_database(path) != LATEST_VERSION or write_refusal(path) is not None:
        return None  # the kernel's path migrates, or names what it cannot write, as it always did
    warn_if_loose(path.parent, path, Path(f"{path}-wal"), Path(f"{path}-shm"))  # as the kernel
    # Not `mode=ro`: a read-only connection cannot remove the -wal and -shm files it makes, so
    # every read would leave them behind (and a later reader that may not write the folder
    # would read through them instead of being refused). `query_only` refuses any write.
    uri = f"{path.resolve().as_uri()}?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=DEFAULT_BUSY_TIMEOUT_MS / 1000)
        connection.execute("PRAGMA query_only = ON")
    except sqlite3.Error as exc:
        raise storage_error_of(str(exc), path) from exc
    return RowReader(connection, path)
