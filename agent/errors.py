"""The kernel's user-facing errors; the root, `WebopsError`, comes from `storage.errors`."""

from __future__ import annotations

from storage.errors import WebopsError

__all__ = [
    "AlreadyExists",
    "Conflict",
    "InvalidInput",
    "NotFound",
    "OperationFailed",
    "WebopsError",
]


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
