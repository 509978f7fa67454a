"""The key of the audit chain's HMACs, kept in a file beside the database and never inside it.

A chain of plain hashes proves nothing to someone who can write the file: they append a row
and compute its hash by the published rule. With an HMAC they also need this key, which lives in
`<database file>.audit-key` (e.g. `webops.db.audit-key`), readable by its owner only, like the
secrets key (`storage/secrets.py`) but separate from it: rotating the secrets key must never
make the audit history unverifiable, and the audit key is never rotated.

Only appending creates the key (verifying never does: a missing key is then reported, not
papered over with a new one). Copy or back up the key together with the database to verify the
copy later; a copy without it still opens, and `webops audit --verify` says what is missing.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from storage.errors import StorageError
from storage.file_modes import create_once

KEY_SUFFIX = ".audit-key"


def audit_key_path(db_path: Path) -> Path:
    """Where the audit key of the database at `db_path` lives: `webops.db.audit-key`."""
    db_path = db_path.expanduser()
    return db_path.with_name(db_path.name + KEY_SUFFIX)


def read_audit_key(path: Path) -> bytes | None:
    """The key at `path`, or None when there is no such file; damage is a `StorageError`."""
    try:
        text = path.read_bytes().strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"cannot read the audit key {path}: {exc.strerror or exc}") from exc
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) < 16:
        raise StorageError(f"the audit key {path} is damaged (not 32 bytes of hex)")
    return key


def create_audit_key(path: Path) -> bytes:
    """Write a new key to `path` unless one is there already; return the key now at `path`
    (two processes creating one at once agree on the first: see `create_once`)."""
    create_once(path, secrets.token_bytes(32).hex().encode("ascii") + b"\n", "the audit key")
    found = read_audit_key(path)
    if found is None:
        raise StorageError(f"the audit key {path} vanished while it was created")
    return found
