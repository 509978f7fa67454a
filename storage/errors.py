"""Errors raised below the kernel.

`WebopsError` is the root of the project's one error hierarchy. It lives in the lowest layer so
that storage can raise user-facing errors without importing the kernel; the kernel and the
shells extend and catch it.
"""

from __future__ import annotations


class WebopsError(Exception):
    """An error whose message is meant for the operator, not a traceback.

    `exit_code` is what the CLI exits with: 2 for bad usage or bad input (the operator can fix
    it), 1 for an operation that was tried and failed.
    """

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StorageError(WebopsError):
    """The database file cannot be used as asked; nothing in it was changed."""

    exit_code = 2


class NotADatabase(StorageError):
    """The path holds something other than a webops-tui SQLite database."""


class DatabaseUnreadable(StorageError):
    """The path cannot be opened or read (permissions, a directory, a missing parent)."""


class SchemaTooNew(StorageError):
    """The file was written by a newer webops-tui; it is refused, never downgraded."""


class DatabaseBusy(StorageError):
    """Another process held the write lock past the busy timeout."""

    exit_code = 1


class DuplicateKey(StorageError):
    """A row with the same unique key is already stored."""
