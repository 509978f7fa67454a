"""The project's one error tree: every user-facing error, defined once, in the lowest layer.

`WebopsError` is the root; the kernel's errors (`InvalidInput`, `NotFound`, `Conflict`,
`AlreadyExists`, `OperationFailed`) and storage's (`StorageError` and its subclasses) hang from
it here, in one module, so that there is one hierarchy to read and no parallel copy to drift.
It lives in storage because storage is the bottom of `webops_tui -> widgets -> agent ->
storage`: everything above may import it, and storage can raise user-facing errors without
importing the kernel. The layers above storage (widgets, webops_tui) must not import storage,
so they reach the same classes through `agent.errors`, the kernel's public face of this tree.

A storage error that means something to the kernel is also one of the kernel's: `DuplicateKey`
is an `AlreadyExists` (and still a `StorageError`, with its exit code), so a layer that
catches either keeps working.
"""

from __future__ import annotations

__all__ = [
    "AlreadyExists",
    "Conflict",
    "DatabaseBusy",
    "DatabaseUnreadable",
    "DuplicateKey",
    "InvalidInput",
    "KeyMissing",
    "NotADatabase",
    "NotFound",
    "OperationFailed",
    "SchemaTooNew",
    "StorageError",
    "WebopsError",
]


class WebopsError(Exception):
    """An error whose message is meant for the operator, not a traceback.

    `exit_code` is what the CLI exits with: 2 for bad usage or bad input (the operator can fix
    it), 1 for an operation that was tried and failed.
    """

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- the kernel's errors -------------------------------------------------------------------


class InvalidInput(WebopsError):
    """The operator asked for something malformed; fix the input and try again."""

    exit_code = 2


class NotFound(InvalidInput):
    """The named thing (agent, target, approval ...) does not exist."""


class Conflict(InvalidInput):
    """The request is well formed but clashes with what is stored (decided twice, say)."""


class AlreadyExists(Conflict):
    """A thing of that name already exists."""


class OperationFailed(WebopsError):
    """The operation was valid and was tried, but did not succeed."""

    exit_code = 1


# -- storage's errors ----------------------------------------------------------------------


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


class ReadOnly(StorageError):
    """The database was opened to look with (`--read-only`): a write was asked and refused."""


class KeyMissing(StorageError):
    """The secrets key file is not there; whether to make one is the caller's decision."""


class DuplicateKey(StorageError, AlreadyExists):
    """A row with the same unique key is already stored.

    Both a `StorageError` (exit code 2, caught as one by storage's callers) and an
    `AlreadyExists` (what it means to the kernel and the operator).
    """
