"""What a memory looks like from outside: one `MemoryItem` shape for every kind.

Episodes, facts and procedures are stored differently (see `episodic`, `semantic`,
`procedural`), but the CLI's `webops memory --json`, the API and the workbench's memory browser
show them as one list; this module is the shape they share, so no kind depends on another.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, TypeGuard

from pydantic import BaseModel, ConfigDict

from agent.errors import InvalidInput

MemoryKind = Literal["episodic", "semantic", "procedural"]
KINDS: tuple[MemoryKind, ...] = ("episodic", "semantic", "procedural")


class MemoryItem(BaseModel):
    """`webops memory --json` rows and the memory browser's lines."""

    model_config = ConfigDict(frozen=True)

    kind: MemoryKind
    id: int
    summary: str
    score: float | None = None
    ts: datetime
    details: dict[str, Any] | None = None
    sources: list[int] = []


def is_memory_kind(value: str) -> TypeGuard[MemoryKind]:
    return value in KINDS


def memory_kind(value: str | None) -> MemoryKind | None:
    """An operator's `--kind` as a `MemoryKind` (None for all kinds); anything else is refused."""
    if value is None:
        return None
    if not is_memory_kind(value):
        raise InvalidInput(f"unknown memory kind {value!r}; use one of {', '.join(KINDS)}")
    return value


def timestamp(value: float) -> datetime:
    """A clock reading (seconds since the epoch) as the aware UTC datetime items carry."""
    return datetime.fromtimestamp(value, UTC)
