"""Numbered schema migrations, applied in one transaction when a database is opened.

The schema version lives in SQLite's `PRAGMA user_version`; `PRAGMA application_id` marks the
file as ours so that another program's database is refused instead of being altered. On
PostgreSQL both live in the `webops_schema` table, and each statement is translated from the
SQLite DDL it was written in (`postgres_ddl`). Each migration is plain DDL frozen at the time it
was written: never edit one that has shipped, add the next number instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.errors import NotADatabase, SchemaTooNew

if TYPE_CHECKING:  # the light reader (storage/reader.py) reads the version without SQLAlchemy
    from sqlalchemy import Connection

#: "WEBO" in ASCII: written into the file header so `file(1)` and we can tell the file is ours.
APPLICATION_ID = 0x5745424F


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: Sequence[str]
    #: Run on PostgreSQL only, as written (after `statements`): what SQLite has no form of.
    postgres: Sequence[str] = ()


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "agents with their Big Five personality",
        (
            """
            CREATE TABLE agent (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                openness REAL NOT NULL,
                conscientiousness REAL NOT NULL,
                extraversion REAL NOT NULL,
                agreeableness REAL NOT NULL,
                neuroticism REAL NOT NULL,
                created_at REAL NOT NULL
            )
            """,
        ),
    ),
    Migration(
        2,
        "remember each agent's preset and persist its lifecycle state",
        (
            "ALTER TABLE agent ADD COLUMN preset TEXT NOT NULL DEFAULT 'custom'",
            "ALTER TABLE agent ADD COLUMN state TEXT NOT NULL DEFAULT 'initializing'",
            "ALTER TABLE agent ADD COLUMN updated_at REAL NOT NULL DEFAULT 0",
            "UPDATE agent SET updated_at = created_at",
        ),
    ),
    Migration(
        3,
        "emotions that survive a restart, action records, and the approvals queue",
        (
            "ALTER TABLE agent ADD COLUMN emotions TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE agent ADD COLUMN emotions_at REAL NOT NULL DEFAULT 0",
            """
            CREATE TABLE action_record (
                id INTEGER PRIMARY KEY,
                agent_id INTEGER NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
                action TEXT NOT NULL,
                target_kind TEXT NOT NULL,
                successes INTEGER NOT NULL DEFAULT 0,
                failures INTEGER NOT NULL DEFAULT 0,
                approved_successes INTEGER NOT NULL DEFAULT 0,
                last_success_at REAL,
                last_failure_at REAL,
                UNIQUE (agent_id, action, target_kind)
            )
            """,
            """
            CREATE TABLE approval (
                id INTEGER PRIMARY KEY,
                agent_id INTEGER NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
                action TEXT NOT NULL,
                target TEXT,
                risk TEXT NOT NULL,
                status TEXT NOT NULL,
                summary TEXT NOT NULL,
                request TEXT NOT NULL,
                explanation TEXT NOT NULL,
                result TEXT,
                created_at REAL NOT NULL,
                decided_at REAL,
                decided_by TEXT
            )
            """,
            "CREATE INDEX approval_status ON approval (status, id)",
        ),
    ),
    Migration(
        4,
        "memory: episodes with embeddings, facts, procedures, learned action values",
        (
            """
            CREATE TABLE id_sequence (
                name TEXT PRIMARY KEY,
                next_id INTEGER NOT NULL
            )
            """,
            "INSERT INTO id_sequence (name, next_id) VALUES ('episode', 1)",
            """
            CREATE TABLE episode (
                id INTEGER PRIMARY KEY,
                agent_id INTEGER NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                situation TEXT,
                summary TEXT NOT NULL,
                details TEXT,
                importance REAL NOT NULL,
                embedding BLOB NOT NULL,
                ts REAL NOT NULL,
                compressed INTEGER NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX episode_agent_ts ON episode (agent_id, ts)",
            """
            CREATE TABLE fact (
                id INTEGER PRIMARY KEY,
                agent_id INTEGER NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
                subject TEXT NOT NULL,
                predicate TEXT NOT NULL,
                value TEXT NOT NULL,
                confidence REAL NOT NULL,
                sources TEXT NOT NULL DEFAULT '[]',
                evidence INTEGER NOT NULL DEFAULT 1,
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL,
                UNIQUE (agent_id, subject, predicate)
            )
            """,
            """
            CREATE TABLE procedure (
                id INTEGER PRIMARY KEY,
                agent_id INTEGER NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
                situation TEXT NOT NULL,
                steps TEXT NOT NULL,
                version INTEGER NOT NULL DEFAULT 1,
                parent_id INTEGER REFERENCES procedure(id) ON DELETE SET NULL,
                active INTEGER NOT NULL DEFAULT 1,
                successes INTEGER NOT NULL DEFAULT 0,
                failures INTEGER NOT NULL DEFAULT 0,
                sources TEXT NOT NULL DEFAULT '[]',
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL
            )
            """,
            "CREATE INDEX procedure_agent_situation ON procedure (agent_id, situation)",
            """
            CREATE TABLE action_value (
                id INTEGER PRIMARY KEY,
                agent_id INTEGER NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
                situation TEXT NOT NULL,
                action TEXT NOT NULL,
                value REAL NOT NULL,
                own_pulls INTEGER NOT NULL DEFAULT 0,
                observed_pulls REAL NOT NULL DEFAULT 0,
                updated_at REAL NOT NULL,
                UNIQUE (agent_id, situation, action)
            )
            """,
            "ALTER TABLE agent ADD COLUMN importance_since_reflection REAL NOT NULL DEFAULT 0",
        ),
    ),
    Migration(
        5,
        "targets, runbooks, skills with proficiency, check history, the audit chain",
        (
            """
            CREATE TABLE target (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                address TEXT NOT NULL,
                interval_s REAL NOT NULL,
                timeout_s REAL NOT NULL,
                criticality TEXT NOT NULL,
                conditions TEXT NOT NULL DEFAULT '[]',
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL
            )
            """,
            """
            CREATE TABLE runbook (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                spec TEXT NOT NULL,
                secrets TEXT NOT NULL DEFAULT '{}',
                risk TEXT NOT NULL,
                timeout_s REAL NOT NULL,
                verify_target TEXT,
                description TEXT NOT NULL DEFAULT '',
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL
            )
            """,
            """
            CREATE TABLE skill (
                id INTEGER PRIMARY KEY,
                agent_id INTEGER NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                proficiency REAL NOT NULL,
                practice_count INTEGER NOT NULL DEFAULT 0,
                successes INTEGER NOT NULL DEFAULT 0,
                failures INTEGER NOT NULL DEFAULT 0,
                learned_at REAL NOT NULL,
                last_practiced_at REAL,
                UNIQUE (agent_id, name)
            )
            """,
            """
            CREATE TABLE check_sample (
                id INTEGER PRIMARY KEY,
                target TEXT NOT NULL,
                ts REAL NOT NULL,
                healthy INTEGER NOT NULL,
                latency_ms REAL
            )
            """,
            "CREATE INDEX check_sample_target ON check_sample (target, id)",
            """
            CREATE TABLE audit (
                id INTEGER PRIMARY KEY,
                ts REAL NOT NULL,
                actor TEXT NOT NULL,
                event TEXT NOT NULL,
                agent TEXT,
                action TEXT,
                target TEXT,
                detail TEXT NOT NULL DEFAULT '{}',
                why TEXT NOT NULL DEFAULT '',
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            )
            """,
            "ALTER TABLE action_record ADD COLUMN approved_streak INTEGER NOT NULL DEFAULT 0",
        ),
    ),
    Migration(
        6,
        "incidents opened by the autonomous loop",
        (
            """
            CREATE TABLE incident (
                id INTEGER PRIMARY KEY,
                target TEXT NOT NULL,
                situation TEXT NOT NULL,
                status TEXT NOT NULL,
                owner TEXT,
                summary TEXT NOT NULL,
                steps INTEGER NOT NULL DEFAULT 0,
                actions TEXT NOT NULL DEFAULT '[]',
                opened_at REAL NOT NULL,
                closed_at REAL
            )
            """,
            "CREATE INDEX incident_status ON incident (status, id)",
        ),
    ),
    Migration(
        7,
        "messages and conversations, relationships between agents and with operators",
        (
            """
            CREATE TABLE message (
                id INTEGER PRIMARY KEY,
                conversation TEXT NOT NULL,
                sender TEXT NOT NULL,
                recipient TEXT NOT NULL,
                kind TEXT NOT NULL,
                text TEXT NOT NULL,
                meaning TEXT NOT NULL DEFAULT '{}',
                status TEXT NOT NULL,
                lang TEXT NOT NULL DEFAULT 'en',
                ts REAL NOT NULL
            )
            """,
            "CREATE INDEX message_conversation ON message (conversation, id)",
            """
            CREATE TABLE relationship (
                id INTEGER PRIMARY KEY,
                subject TEXT NOT NULL,
                other TEXT NOT NULL,
                trust REAL NOT NULL,
                affinity REAL NOT NULL,
                interactions INTEGER NOT NULL DEFAULT 0,
                last_contact REAL NOT NULL,
                UNIQUE (subject, other)
            )
            """,
        ),
    ),
    Migration(
        8,
        "bearer tokens for the REST API, stored only as hashes",
        (
            """
            CREATE TABLE api_token (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                role TEXT NOT NULL,
                prefix TEXT NOT NULL UNIQUE,
                token_hash TEXT NOT NULL,
                created_at REAL NOT NULL,
                last_used_at REAL,
                revoked_at REAL
            )
            """,
        ),
    ),
    Migration(
        9,
        "per-target confirmation thresholds; an incident remembers degraded or down",
        (
            "ALTER TABLE target ADD COLUMN failure_threshold INTEGER NOT NULL DEFAULT 2",
            "ALTER TABLE target ADD COLUMN success_threshold INTEGER NOT NULL DEFAULT 1",
            "ALTER TABLE incident ADD COLUMN health TEXT NOT NULL DEFAULT 'down'",
        ),
    ),
    Migration(
        10,
        "an incident remembers the checks that confirmed it and each remedy's credit, with why",
        (
            "ALTER TABLE incident ADD COLUMN evidence TEXT NOT NULL DEFAULT '[]'",
            "ALTER TABLE incident ADD COLUMN credits TEXT NOT NULL DEFAULT '[]'",
        ),
    ),
    Migration(
        11,
        "per-target retry interval and context conditions that describe a situation",
        (
            "ALTER TABLE target ADD COLUMN retry_interval_s REAL",
            "ALTER TABLE target ADD COLUMN context TEXT NOT NULL DEFAULT '[]'",
        ),
    ),
    Migration(
        12,
        "personality drift: how far experience moved each trait from its base, and why",
        ("ALTER TABLE agent ADD COLUMN drift TEXT NOT NULL DEFAULT '{}'",),
    ),
    Migration(
        13,
        "silences (one-off, per target glob) and recurring maintenance windows (cron)",
        (
            """
            CREATE TABLE silence (
                id INTEGER PRIMARY KEY,
                name TEXT UNIQUE,
                targets TEXT NOT NULL DEFAULT '[]',
                reason TEXT NOT NULL DEFAULT '',
                starts_at REAL NOT NULL,
                ends_at REAL NOT NULL,
                created_by TEXT,
                created_at REAL NOT NULL
            )
            """,
            "CREATE INDEX silence_ends_at ON silence (ends_at)",
            """
            CREATE TABLE maintenance_window (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                targets TEXT NOT NULL DEFAULT '[]',
                cron TEXT NOT NULL,
                duration TEXT NOT NULL,
                reason TEXT NOT NULL DEFAULT '',
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL
            )
            """,
        ),
    ),
    Migration(
        14,
        "incident lifecycle: who acknowledged it, a counter of people's changes the loop checks "
        "before it writes, and a journal of notes, people's changes and the agents' decisions",
        (
            "ALTER TABLE incident ADD COLUMN acknowledged_at REAL",
            "ALTER TABLE incident ADD COLUMN acknowledged_by TEXT",
            "ALTER TABLE incident ADD COLUMN person_rev INTEGER NOT NULL DEFAULT 0",
            """
            CREATE TABLE incident_event (
                id INTEGER PRIMARY KEY,
                incident_id INTEGER NOT NULL,
                ts REAL NOT NULL,
                kind TEXT NOT NULL,
                actor TEXT,
                text TEXT NOT NULL DEFAULT ''
            )
            """,
            "CREATE INDEX ix_incident_event_incident ON incident_event (incident_id, ts)",
        ),
    ),
    Migration(
        15,
        "notification routes (apprise URLs, sealed) and an outbox of every delivery",
        (
            """
            CREATE TABLE notify_route (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                url TEXT NOT NULL,
                events TEXT NOT NULL DEFAULT '[]',
                targets TEXT NOT NULL DEFAULT '[]',
                min_criticality TEXT NOT NULL DEFAULT 'low',
                remind_every_s REAL NOT NULL DEFAULT 0,
                send_resolved BOOLEAN NOT NULL DEFAULT 1,
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL
            )
            """,
            """
            CREATE TABLE notification (
                id INTEGER PRIMARY KEY,
                route TEXT NOT NULL,
                event TEXT NOT NULL,
                target TEXT,
                incident_id INTEGER,
                title TEXT NOT NULL,
                body TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT NOT NULL DEFAULT '',
                created_at REAL NOT NULL,
                next_at REAL NOT NULL,
                sent_at REAL
            )
            """,
            "CREATE INDEX ix_notification_status ON notification (status, next_at)",
        ),
    ),
    Migration(
        16,
        "workers sharing targets through leases, who made each check, and one open incident "
        "per target enforced by the database (older duplicates are closed first)",
        (
            """
            CREATE TABLE worker (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                started_at REAL NOT NULL,
                seen_at REAL NOT NULL,
                stopped_at REAL,
                lease_s REAL NOT NULL DEFAULT 10
            )
            """,
            """
            CREATE TABLE target_lease (
                id INTEGER PRIMARY KEY,
                target TEXT NOT NULL UNIQUE,
                worker TEXT NOT NULL DEFAULT '',
                expires_at REAL NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX ix_target_lease_worker ON target_lease (worker, expires_at)",
            "ALTER TABLE check_sample ADD COLUMN worker TEXT NOT NULL DEFAULT ''",
            # Settle duplicates an older file may hold before the unique index: all but the
            # newest open incident of a target are closed, and their journals say why.
            """
            INSERT INTO incident_event (incident_id, ts, kind, actor, text)
            SELECT i.id, i.opened_at, 'resolved', 'migration 16',
                   'closed: a newer incident on the same target is open'
            FROM incident i
            WHERE i.status IN ('open', 'awaiting_approval') AND EXISTS (
                SELECT 1 FROM incident j
                WHERE j.target = i.target AND j.id > i.id
                AND j.status IN ('open', 'awaiting_approval')
            )
            """,
            """
            UPDATE incident SET status = 'resolved', closed_at = opened_at,
                summary = 'closed: a newer incident on the same target is open'
            WHERE status IN ('open', 'awaiting_approval') AND EXISTS (
                SELECT 1 FROM incident j
                WHERE j.target = incident.target AND j.id > incident.id
                AND j.status IN ('open', 'awaiting_approval')
            )
            """,
            "CREATE UNIQUE INDEX ux_incident_open_target ON incident (target) "
            "WHERE status IN ('open', 'awaiting_approval')",
        ),
    ),
    Migration(
        17,
        "PostgreSQL tells listeners which table a statement wrote (events across nodes)",
        (),
        postgres=(
            """
            CREATE OR REPLACE FUNCTION webops_notify() RETURNS trigger AS $$
            BEGIN
                PERFORM pg_notify('webops', TG_TABLE_NAME);
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """,
            *(
                f"CREATE TRIGGER webops_notify_{table} AFTER INSERT OR UPDATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION webops_notify()"
                for table in ("incident", "approval", "agent", "check_sample")
            ),
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version

#: PostgreSQL keeps the version here (SQLite keeps it in the file header, `user_version`).
_POSTGRES_VERSION_TABLE = "webops_schema"

#: SQLite DDL -> PostgreSQL DDL, in order. SQLite's REAL and INTEGER are 8 bytes, PostgreSQL's
#: are 4: timestamps in a 4-byte float would lose their seconds, so both widen. An INTEGER
#: PRIMARY KEY is SQLite's rowid, which numbers rows by itself: an identity column does that
#: on PostgreSQL (BY DEFAULT, since episodes bring ids of their own, `id_sequence`).
_POSTGRES_TYPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\bINTEGER PRIMARY KEY\b"),
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\bBOOLEAN NOT NULL DEFAULT 1\b"), "BOOLEAN NOT NULL DEFAULT TRUE"),
    (re.compile(r"\bBOOLEAN NOT NULL DEFAULT 0\b"), "BOOLEAN NOT NULL DEFAULT FALSE"),
)


def postgres_ddl(statement: str) -> str:
    """A migration's statement as PostgreSQL runs it: the migrations stay written once."""
    for pattern, replacement in _POSTGRES_TYPES:
        statement = pattern.sub(replacement, statement)
    return statement


def schema_version(conn: Connection) -> int:
    if conn.dialect.name == "sqlite":
        return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
    return _postgres_version(conn)


def _postgres_version(conn: Connection) -> int:
    """The stored version; 0 for an empty database. A database that holds tables but no
    version is another program's, refused as a file of another program is."""
    found = conn.exec_driver_sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
        f"AND table_name = '{_POSTGRES_VERSION_TABLE}'"
    ).scalar_one()
    if found:
        row = conn.exec_driver_sql(
            f"SELECT application, version FROM {_POSTGRES_VERSION_TABLE}"
        ).first()
        if row is not None and int(row[0]) == APPLICATION_ID:
            return int(row[1])
    others = conn.exec_driver_sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
    ).scalar_one()
    if others:
        raise NotADatabase(
            "the PostgreSQL database holds another program's tables; give webops-tui a "
            "database of its own (CREATE DATABASE webops)"
        )
    return 0


def _set_version(conn: Connection, version: int) -> None:
    # Both values are integers we control (PRAGMA takes no bound parameters).
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
        conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        return
    table = _POSTGRES_VERSION_TABLE
    conn.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {table} (application BIGINT NOT NULL, version BIGINT NOT NULL)"
    )
    conn.exec_driver_sql(f"DELETE FROM {table}")
    conn.exec_driver_sql(f"INSERT INTO {table} VALUES ({APPLICATION_ID}, {int(version)})")


def apply_migrations(conn: Connection, target: int = LATEST_VERSION) -> int:
    """Bring the schema up to `target` inside the caller's transaction; return the old version.

    A file newer than this code is refused before anything is written. On PostgreSQL the
    transaction first takes an advisory lock, so workers starting together migrate one after
    another (the second finds the work done), as SQLite's `BEGIN IMMEDIATE` does for files.
    """
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({APPLICATION_ID})")
    current = schema_version(conn)
    if current > LATEST_VERSION:
        raise SchemaTooNew(
            f"the database was written by a newer webops-tui (schema {current}; this version "
            f"knows up to {LATEST_VERSION}); upgrade webops-tui to open it"
        )
    for migration in MIGRATIONS:
        if current < migration.version <= target:
            for statement in migration.statements:
                conn.exec_driver_sql(postgres_ddl(statement) if postgres else statement)
            for statement in migration.postgres if postgres else ():
                conn.exec_driver_sql(statement)
    if target > current:
        _set_version(conn, target)
    return current
