"""A memory's rows as `MemoryItem`s, newest first: what `webops memory NAME` lists.

The kernel (episodic, semantic and procedural memory) and the CLI's light path
(webops_tui/cli/light.py, which reads the rows with the stdlib `sqlite3`) turn rows into items
here, so the two cannot print different things. Rows are read by shape (`EpisodeFields`,
`FactFields`, `ProcedureFields`): this module imports neither the ORM nor numpy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Protocol

from agent.errors import InvalidInput
from agent.memory.items import KINDS, MemoryItem, MemoryKind, memory_kind, timestamp
from agent.memory.procedures import Procedure, Step, dropped


class EpisodeFields(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def details(self) -> str | None: ...
    @property
    def ts(self) -> float: ...
    @property
    def situation(self) -> str | None: ...


class FactFields(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def subject(self) -> str: ...
    @property
    def predicate(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def sources(self) -> str: ...
    @property
    def evidence(self) -> int: ...
    @property
    def updated_at(self) -> float: ...


class ProcedureFields(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def situation(self) -> str: ...
    @property
    def steps(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def parent_id(self) -> int | None: ...
    @property
    def active(self) -> int: ...
    @property
    def successes(self) -> int: ...
    @property
    def failures(self) -> int: ...
    @property
    def sources(self) -> str: ...


def episode_item(row: EpisodeFields, score: float | None) -> MemoryItem:
    details = json.loads(row.details) if row.details else None
    if details is not None and row.situation:
        details.setdefault("situation", row.situation)
    return MemoryItem(
        kind="episodic",
        id=row.id,
        summary=f"[{row.kind}] {row.summary}",
        score=score,
        ts=timestamp(row.ts),
        details=details,
    )


def fact_item(row: FactFields, score: float | None) -> MemoryItem:
    assert row.id is not None
    return MemoryItem(
        kind="semantic",
        id=row.id,
        summary=f"{row.subject} {row.predicate.replace('_', ' ')} {row.value} "
        f"(confidence {row.confidence:.2f})",
        score=score,
        ts=timestamp(row.updated_at),
        details={
            "subject": row.subject,
            "predicate": row.predicate,
            "value": row.value,
            "confidence": row.confidence,
            "evidence": row.evidence,
        },
        sources=json.loads(row.sources),
    )


def stored_procedure(row: ProcedureFields) -> Procedure:
    return Procedure(
        situation=row.situation,
        steps=[Step.from_dict(s) for s in json.loads(row.steps)],
        id=row.id,
        version=row.version,
        parent_id=row.parent_id,
        active=bool(row.active),
        successes=row.successes,
        failures=row.failures,
        sources=json.loads(row.sources),
    )


def procedure_items(
    procedures: Sequence[Procedure], known: Sequence[Procedure], now: float
) -> list[MemoryItem]:
    """`procedures` as items; `known` (every version the agent has) names each one's parent."""
    by_id = {p.id: p for p in known}
    items = []
    for p in procedures:
        parent = by_id.get(p.parent_id) if p.parent_id is not None else None
        assert p.id is not None
        state = "" if p.active else " (superseded)"
        items.append(
            MemoryItem(
                kind="procedural",
                id=p.id,
                summary=f"{p.situation}: {' -> '.join(p.signature)} v{p.version}{state}, "
                f"{p.successes} ok / {p.failures} failed",
                ts=timestamp(now),
                details={
                    "situation": p.situation,
                    "steps": [s.as_dict() for s in p.steps],
                    "version": p.version,
                    "parent_id": p.parent_id,
                    "active": p.active,
                    "success_rate": round(p.success_rate, 3),
                    "successes": p.successes,
                    "failures": p.failures,
                    #: Why the steps of the version before are not in this one.
                    "dropped": dropped(parent, p) if parent is not None else [],
                },
                sources=p.sources,
            )
        )
    return items


def memory_query(kind: str | None, limit: int) -> MemoryKind | None:
    """Refuse a bad `webops memory` query before any agent is loaded for it."""
    checked = memory_kind(kind)
    if limit < 1:
        raise InvalidInput(f"--limit must be at least 1, got {limit}")
    return checked


def listed_kinds(kind: MemoryKind | None) -> list[MemoryKind]:
    """The kinds `webops memory` shows, in its order: one asked for, or all three."""
    return [kind] if kind else list(KINDS)


def shown_procedures(procedures: Sequence[Procedure], kind: MemoryKind | None) -> list[Procedure]:
    """The active procedures, or every version when procedures alone were asked for."""
    return [p for p in procedures if p.active or kind]
