"""The kernel's errors, as the layers above the kernel see them.

The whole error tree is defined once, in `storage.errors` (storage is the lowest layer, so
every layer may import it and storage can raise user-facing errors without importing the
kernel). This module re-exports it unchanged: widgets and webops_tui must never import storage,
so `agent.errors` is where they (and the kernel's own modules) get `WebopsError` and every
subclass, storage's included. Add a new error to `storage.errors` and name it here too;
never define one here.
"""

from __future__ import annotations

from storage.errors import (
    AlreadyExists,
    Conflict,
    DatabaseBusy,
    DatabaseUnreadable,
    DuplicateKey,
    InvalidInput,
    NotADatabase,
    NotFound,
    OperationFailed,
    SchemaTooNew,
    StorageError,
    WebopsError,
)

__all__ = [
    "AlreadyExists",
    "Conflict",
    "DatabaseBusy",
    "DatabaseUnreadable",
    "DuplicateKey",
    "InvalidInput",
    "NotADatabase",
    "NotFound",
    "OperationFailed",
    "SchemaTooNew",
    "StorageError",
    "WebopsError",
]
