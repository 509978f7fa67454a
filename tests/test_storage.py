"""The one SQLite file: round trips, migrations, pragmas, and files that must not be touched."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from storage import migrations
from storage.database import Database
from storage.errors import DatabaseUnreadable, DuplicateKey, NotADatabase, SchemaTooNew
from storage.repositories.agents import AgentRepository
from storage.tables import AgentRow
from tests.raw_sql import table_columns

# Each test on a `db_path` runs on SQLite and on PostgreSQL; sqlite_only ones are about the file.
pytestmark = pytest.mark.both_backends


def _row(name: str, created: float = 1_700_000_000.0) -> AgentRow:
    return AgentRow(
        name=name,
        openness=0.1,
        conscientiousness=0.2,
        extraversion=0.3,
        agreeableness=0.4,
        neuroticism=0.5,
        created_at=created,
        updated_at=created,
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_round_trip_survives_close_and_reopen(db_path: Path) -> None:
    db = await Database.open(db_path)
    await AgentRepository(db).add(_row("anna"))
    await AgentRepository(db).add(_row("ben"))
    await db.close()

    db = await Database.open(db_path)
    rows = await AgentRepository(db).list()
    await db.close()
    assert [(r.name, r.neuroticism) for r in rows] == [("anna", 0.5), ("ben", 0.5)]


async def test_duplicate_name_stores_nothing(db_path: Path) -> None:
    db = await Database.open(db_path)
    repo = AgentRepository(db)
    await repo.add(_row("anna"))
    with pytest.raises(DuplicateKey, match="anna"):
        await repo.add(_row("anna", created=1.0))
    rows = await repo.list()
    await db.close()
    assert [(r.name, r.created_at) for r in rows] == [("anna", 1_700_000_000.0)]


@pytest.mark.sqlite_only
async def test_every_connection_gets_the_pragmas(db_path: Path) -> None:
    db = await Database.open(db_path)
    async with db.session() as session:
        conn = await session.connection()
        values = {
            name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    await db.close()
    assert values == {
        "journal_mode": "wal",
        "synchronous": 1,
        "foreign_keys": 1,
        "busy_timeout": 5000,
    }


def _make_v1_file(path: Path, names: list[str]) -> None:
    """A file exactly as the first released schema wrote it, with some agents in it."""
    conn = sqlite3.connect(path)
    for statement in migrations.MIGRATIONS[0].statements:
        conn.execute(statement)
    conn.executemany(
        "INSERT INTO agent (name, openness, conscientiousness, extraversion, agreeableness, "
        "neuroticism, created_at) VALUES (?, 0.1, 0.2, 0.3, 0.4, 0.5, ?)",
        [(name, 1000.0 + i) for i, name in enumerate(names)],
    )
    conn.execute("PRAGMA user_version = 1")
    conn.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID}")
    conn.commit()
    conn.close()


@pytest.mark.sqlite_only
async def test_old_file_is_upgraded_without_losing_rows(db_path: Path) -> None:
    _make_v1_file(db_path, ["anna", "ben", "cleo"])
    db = await Database.open(db_path)
    rows = await AgentRepository(db).list()
    await db.close()
    assert [(r.name, r.preset, r.state, r.updated_at) for r in rows] == [
        ("anna", "custom", "initializing", 1000.0),
        ("ben", "custom", "initializing", 1001.0),
        ("cleo", "custom", "initializing", 1002.0),
    ]
    version = sqlite3.connect(db_path).execute("PRAGMA user_version").fetchone()[0]
    assert version == migrations.LATEST_VERSION


@pytest.mark.sqlite_only
async def test_failed_migration_rolls_back_whole(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make_v1_file(db_path, ["anna"])
    broken = migrations.Migration(
        2,
        "breaks half-way",
        ("ALTER TABLE agent ADD COLUMN preset TEXT", "THIS IS NOT SQL"),
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", (migrations.MIGRATIONS[0], broken))
    with pytest.raises(Exception, match="syntax error"):
        await Database.open(db_path)
    conn = sqlite3.connect(db_path)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(agent)")]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "preset" not in columns  # the first statement was rolled back too
    assert conn.execute("SELECT name FROM agent").fetchall() == [("anna",)]


async def test_migrations_build_the_schema_the_tables_describe(db_path: Path) -> None:
    db = await Database.open(db_path)
    await db.close()
    for table in SQLModel.metadata.sorted_tables:
        stored = table_columns(db_path, table.name)
        described = {c.name: not c.nullable for c in table.columns}
        assert stored.keys() == described.keys(), table.name
        assert {k for k, v in described.items() if v} <= {k for k, v in stored.items() if v} | {
            c.name for c in table.primary_key.columns
        }


@pytest.mark.sqlite_only
async def test_newer_schema_is_refused_and_left_untouched(db_path: Path) -> None:
    db = await Database.open(db_path)
    await AgentRepository(db).add(_row("anna"))
    await db.close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST_VERSION + 1}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = _digest(db_path)
    with pytest.raises(SchemaTooNew, match="newer webops-tui"):
        await Database.open(db_path)
    assert _digest(db_path) == before


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"just some notes, not a database\n", "not an SQLite database"),
        (b"SQLite format 3\x00" + b"\xff" * 200, "damaged"),
    ],
)
async def test_non_database_file_is_refused_and_left_untouched(
    db_path: Path, content: bytes, message: str
) -> None:
    db_path.write_bytes(content)
    with pytest.raises(NotADatabase, match=message):
        await Database.open(db_path)
    assert db_path.read_bytes() == content
    assert not Path(f"{db_path}-wal").exists()


@pytest.mark.sqlite_only
async def test_another_programs_database_is_refused(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()
    before = _digest(db_path)
    with pytest.raises(NotADatabase, match="another program"):
        await Database.open(db_path)
    assert _digest(db_path) == before


async def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnreadable, match="is a directory"):
        await Database.open(tmp_path)


@pytest.mark.sqlite_only
@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
async def test_unreadable_file_is_refused(db_path: Path) -> None:
    db = await Database.open(db_path)
    await db.close()
    db_path.chmod(0)
    try:
        with pytest.raises(DatabaseUnreadable, match="cannot read"):
            await Database.open(db_path)
    finally:
        db_path.chmod(0o600)


async def test_missing_folders_are_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "webops.db"
    db = await Database.open(path)
    await db.close()
    assert path.is_file()


async def test_path_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me")
    with pytest.raises(DatabaseUnreadable, match="is not a directory"):
        await Database.open(blocker / "webops.db")
    assert blocker.read_text() == "keep me"
