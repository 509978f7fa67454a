"""Runbook secrets encrypted at rest with a key kept beside the database file.

The key lives in `<database file>.key` (e.g. `webops.db.key`), readable by its owner only, and
never inside the database: a copy of the database alone (a backup, an attachment to a bug
report, a file synced elsewhere) then carries its secrets only as Fernet tokens nobody can read.
The flip side: copying or moving the database without its key file loses the secrets for good.
Everything else in the file still opens; only `decrypt` refuses, and the operator re-enters the
secrets. Keep the two files together (or deliberately apart, to share a database without them).

A missing key is never silently replaced: `for_database(create=False)` raises `KeyMissing`, and
the caller decides (ops creates one only while no runbook holds secrets). The key file may hold
several keys, one a line: the first encrypts, any decrypts. Rotation uses that so that a crash
at any moment leaves every stored token readable: first the file holds new + old keys, then the
tokens are re-encrypted, then the file holds the new key alone.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from storage.errors import KeyMissing, StorageError
from storage.file_modes import FILE_MODE, create_once, warn_if_loose

MASK = "******"
KEY_SUFFIX = ".key"


def key_path_for(db_path: Path) -> Path:
    """Where the key of the database at `db_path` lives: `webops.db` -> `webops.db.key`."""
    db_path = db_path.expanduser()
    return db_path.with_name(db_path.name + KEY_SUFFIX)


def _read_key(path: Path) -> bytes:
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError as exc:
        raise KeyMissing(f"the secrets key {path} is missing") from exc
    except OSError as exc:
        raise StorageError(f"cannot read the secrets key {path}: {exc.strerror or exc}") from exc
    warn_if_loose(path)
    return key


def _write_keys(path: Path, keys: list[bytes]) -> None:
    """Replace the key file atomically (a reader sees the old keys or the new, never half)."""
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise StorageError(f"cannot write the secrets key {path}: {exc.strerror or exc}") from exc
    try:
        try:
            os.fchmod(fd, FILE_MODE)
            os.write(fd, b"".join(key + b"\n" for key in keys))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp_name, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise StorageError(f"cannot write the secrets key {path}: {exc.strerror or exc}") from exc


def _create_key(path: Path) -> bytes:
    """Write a new key to `path` unless one is there already; return the key now at `path`."""
    key = Fernet.generate_key()
    return key if create_once(path, key + b"\n", "the secrets key") else _read_key(path)


class SecretBox:
    """Encrypts and decrypts runbook secret values with one database's key."""

    def __init__(self, key: bytes, key_path: Path | None = None) -> None:
        self.key_path = key_path
        self._use(key.split())

    def _use(self, keys: list[bytes]) -> None:
        where = f" in {self.key_path}" if self.key_path is not None else ""
        try:
            self._keys = keys
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except (ValueError, TypeError) as exc:
            raise StorageError(f"the secrets key{where} is damaged (not a Fernet key)") from exc

    @classmethod
    def for_database(cls, db_path: Path, *, create: bool = True) -> SecretBox:
        """The box for the database at `db_path`; its key file is created on first use only when
        `create` (else a missing one raises `KeyMissing`).

        An existing key file is never overwritten. Blocking file I/O: from async code, call it
        through `asyncio.to_thread`.
        """
        path = key_path_for(db_path)
        key = _read_key(path) if path.exists() or not create else _create_key(path)
        return cls(key, path)

    def begin_rotation(self) -> None:
        """Put a new key first in the key file, keeping the old ones: every stored token still
        decrypts, and `encrypt` now uses the new key."""
        keys = [Fernet.generate_key(), *self._keys]
        if self.key_path is not None:
            _write_keys(self.key_path, keys)
        self._use(keys)

    def finish_rotation(self) -> None:
        """Forget every key but the newest, once every token was re-encrypted with it."""
        keys = self._keys[:1]
        if self.key_path is not None:
            _write_keys(self.key_path, keys)
        self._use(keys)

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plaintext of `token`; a foreign key or a damaged token raises `StorageError`."""
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except (InvalidToken, ValueError, TypeError) as exc:
            where = f" ({self.key_path})" if self.key_path is not None else ""
            raise StorageError(
                "cannot decrypt runbook secrets: the key file does not match this database"
                f"{where}, or the stored value is damaged; re-enter the secrets"
            ) from exc

    @staticmethod
    def mask(value: str) -> str:
        """What to show instead of a secret: always the same, so not even its length leaks."""
        return MASK
