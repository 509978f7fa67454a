"""The check every opening of the file starts with, on the stdlib `sqlite3` alone.

It lives apart from `database.py` so the light reader (`reader.py`) refuses a bad file with the
same words without importing SQLAlchemy (~0.3 s of a read command's start-up).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from storage.errors import (
    DatabaseBusy,
    DatabaseUnreadable,
    NotADatabase,
    SchemaTooNew,
    StorageError,
)
from storage.location import Location
from storage.migrations import APPLICATION_ID, LATEST_VERSION
from storage.writable import write_refusal

SQLITE_HEADER = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT_MS = 5_000


def inspect_location(location: Location) -> int | None:
    """`inspect_database` for a file; a server's database is checked when it is opened (the
    server answers for it)."""
    return inspect_database(location) if isinstance(location, Path) else None


def inspect_database(path: Path) -> int | None:
    """Refuse a file we must not touch, without writing a byte to it.

    Returns the schema version of an existing webops-tui database, or None when the file does not
    exist yet (or is empty) and would be created. Raises a `StorageError` naming the problem for a
    directory, an unreadable file, a non-SQLite file, another program's database, a damaged file
    or one written by a newer version.
    """
    if path.is_dir():
        raise DatabaseUnreadable(f"{path} is a directory, not a database file")
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise DatabaseUnreadable(f"cannot create {path}: {parent} is not a directory")
        return None
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise DatabaseUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not header:
        return None
    if not header.startswith(SQLITE_HEADER):
        raise NotADatabase(f"{path} is not an SQLite database; refusing to touch it")
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=DEFAULT_BUSY_TIMEOUT_MS / 1000)) as c:
            version = int(c.execute("PRAGMA user_version").fetchone()[0])
            app_id = int(c.execute("PRAGMA application_id").fetchone()[0])
            tables = int(c.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
    except sqlite3.Error as exc:
        refusal = write_refusal(path) if may_be_unwritable(str(exc)) else None
        if refusal is not None:  # a read-only folder is not a damaged file (issue 18)
            raise DatabaseUnreadable(f"{refusal}; SQLite needs to write beside {path}") from exc
        raise NotADatabase(f"{path} is a damaged or unreadable SQLite file: {exc}") from exc
    if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables):
        raise NotADatabase(f"{path} is another program's SQLite database; refusing to touch it")
    if version > LATEST_VERSION:
        raise SchemaTooNew(
            f"{path} was written by a newer webops-tui (schema {version}; this version knows up "
            f"to {LATEST_VERSION}); upgrade webops-tui to open it"
        )
    return version


def may_be_unwritable(sqlite_text: str) -> bool:
    """SQLite's words when it could not write the file or create `-wal`/`-shm` beside it."""
    return "readonly" in sqlite_text or "unable to open" in sqlite_text


def storage_error_of(text: str, path: Path | None = None) -> StorageError:
    """SQLite's error `text` as one line (both paths: the ORM's and the light reader's)."""
    if "locked" in text or "busy" in text:
        return DatabaseBusy(f"the database is busy (another process holds the lock): {text}")
    if path is not None and may_be_unwritable(text):
        refusal = write_refusal(path)
        if refusal is not None:
            return DatabaseUnreadable(f"{refusal}; nothing was changed")
    if "malformed" in text or "not a database" in text:
        return NotADatabase(
            f"the database file is damaged ({text}); nothing was changed. Restore it from a "
            "backup, or try: sqlite3 FILE .recover"
        )
    return StorageError(f"database error: {text}")
