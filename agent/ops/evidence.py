"""What an incident remembers about itself: the checks that confirmed it, and the credit each
remedy got, with why.

An operator who sees "incident 12: restart fixed it" should be able to ask two questions and
get an answer from the record, not from the agents' minds: *was anything wrong?* (the failing
checks that opened it: when, degraded or down, what each said, how slow) and *did the remedy
really fix it?* (for each remedy tried, whether it earned credit, and the one-line reason:
"credited: failing check 0.2 s before, verification passed", "no credit: the fault was not
confirmed just before it"). Both are written on the incident row (columns `evidence` and
`credits`, migration 10) as the autopilot works it, and read back here as `IncidentDetail`,
the one read model the CLI, the API and the workbench show.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, get_args

from pydantic import BaseModel, TypeAdapter

from agent.errors import InvalidInput, NotFound
from agent.ops.confirmation import FailingCheck, Fault
from agent.ops.incidents import IncidentStatus, Tried, fault_of, tried_of
from agent.ops.timeline import SLACK_S, TimelineStep, build_timeline
from storage.database import Database
from storage.repositories.audit import AuditRepository
from storage.repositories.facts import FactRepository
from storage.repositories.incidents import IncidentRepository
from storage.repositories.messages import MessageRepository
from storage.tables import IncidentRow

if TYPE_CHECKING:
    from agent.ops.postmortem import Postmortem

__all__ = [
    "INCIDENT_STATUSES",
    "Credit",
    "FailingCheck",
    "IncidentDetail",
    "IncidentLog",
    "add_credits",
    "set_evidence",
]

#: Every status an incident can be in, in the order `webops incident list --status` names them.
INCIDENT_STATUSES: tuple[IncidentStatus, ...] = get_args(IncidentStatus)
#: The statuses of an incident still being worked: what `webops incidents` lists by default.
OPEN_STATUSES: tuple[IncidentStatus, ...] = ("open", "awaiting_approval")
#: The most incidents one listing returns.
MAX_LIST = 10_000

_CHECKS = TypeAdapter(list[FailingCheck])


class Credit(BaseModel):
    """One remedy tried for an incident: whether it fixed it, the reward it taught (1 a real
    fix, 0 a real miss, None neutral: nobody knows there was a fault it could fix), and why."""

    action: str
    fixed: bool
    credit: float | None
    why: str


_CREDITS = TypeAdapter(list[Credit])


def set_evidence(row: IncidentRow, checks: Iterable[FailingCheck]) -> None:
    """Write the failing checks that confirmed the incident on its row."""
    row.evidence = _CHECKS.dump_json(list(checks)).decode()


def add_credits(row: IncidentRow, credits: Iterable[Credit]) -> None:
    """Append remedies' credits, in the order they were tried, to the incident's row."""
    new = list(credits)
    if new:
        row.credits = _CREDITS.dump_json([*_CREDITS.validate_json(row.credits), *new]).decode()


def _checks_of(text: str) -> list[FailingCheck]:
    return _CHECKS.validate_json(text or "[]")


def _credits_of(text: str) -> list[Credit]:
    return _CREDITS.validate_json(text or "[]")


def _status_of(text: str) -> IncidentStatus:
    for status in INCIDENT_STATUSES:
        if status == text:
            return status
    return "failed"  # a status this version does not know: not being handled


class IncidentDetail(BaseModel):
    """One incident, whole: `webops incident show --json`, `GET /api/incidents/{id}`."""

    id: int
    target: str
    situation: str
    status: IncidentStatus
    #: How the confirmed fault showed: "degraded" (slow, partial) or "down".
    health: Fault
    owner: str | None
    steps: int
    opened_at: float
    closed_at: float | None
    summary: str
    #: Remedies tried, in order, with whether each fixed it.
    actions: list[Tried]
    #: The failing checks that confirmed the fault, oldest first.
    evidence: list[FailingCheck]
    #: Each remedy tried with the credit it got and why, in order.
    credits: list[Credit]
    #: When and by whom a person acknowledged it (None: nobody yet); migration 14.
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None
    #: Opened, confirming checks, remedies with credit, approvals, closed: oldest first. Only
    #: one incident's detail (`show`) carries it; listings leave it empty.
    timeline: list[TimelineStep] = []

    @classmethod
    def from_row(cls, row: IncidentRow) -> IncidentDetail:
        assert row.id is not None
        return cls(
            id=row.id,
            target=row.target,
            situation=row.situation,
            status=_status_of(row.status),
            health=fault_of(row.health),
            owner=row.owner,
            steps=row.steps,
            opened_at=row.opened_at,
            closed_at=row.closed_at,
            summary=row.summary,
            actions=tried_of(row.actions),
            evidence=_checks_of(row.evidence),
            credits=_credits_of(row.credits),
            acknowledged_at=row.acknowledged_at,
            acknowledged_by=row.acknowledged_by,
        )


def incident_status(text: str | None) -> IncidentStatus | None:
    """An operator's `--status` as an incident status; `InvalidInput` naming the good ones."""
    if text is None:
        return None
    for status in INCIDENT_STATUSES:
        if status == text:
            return status
    raise InvalidInput(
        f"unknown incident status {text!r}; use one of {', '.join(INCIDENT_STATUSES)}"
    )


class IncidentLog:
    """The stored incidents, read as `IncidentDetail`s (whoever wrote them: this process's
    autopilot or another's)."""

    def __init__(self, database: Database) -> None:
        self._repository = IncidentRepository(database)
        self._audit = AuditRepository(database)
        self._messages = MessageRepository(database)
        self._facts = FactRepository(database)

    async def list(
        self,
        status: str | None = None,
        limit: int = 50,
        *,
        open_only: bool = False,
        target: str | None = None,
    ) -> list[IncidentDetail]:
        """Newest first; only those still being worked with `open_only`, only `target`'s when
        given; a bad status or limit is `InvalidInput`."""
        checked = incident_status(status)
        if not 1 <= limit <= MAX_LIST:
            raise InvalidInput(f"--limit must be between 1 and {MAX_LIST}, not {limit}")
        statuses = OPEN_STATUSES if open_only else None
        rows = await self._repository.list(checked, limit, statuses=statuses, target=target)
        return [IncidentDetail.from_row(r) for r in rows]

    async def counts(self) -> dict[str, int]:
        """Incidents per status, every known status present (0 when none): a scrape reads the
        file, so the numbers are right after a restart and include other processes' incidents."""
        stored = await self._repository.count_by_status()
        counts: dict[str, int] = dict.fromkeys(INCIDENT_STATUSES, 0)
        for status, n in stored.items():
            known = status if status in counts else "failed"  # as `IncidentDetail` reads it
            counts[known] += n
        return counts

    async def get(self, incident_id: int) -> IncidentDetail:
        """The incident with its timeline (from its row and the audit chain)."""
        row = await self._repository.get(incident_id) if 1 <= incident_id < 2**63 else None
        if row is None:
            raise NotFound(f"no incident with id {incident_id}")
        detail = IncidentDetail.from_row(row)
        until = None if detail.closed_at is None else detail.closed_at + SLACK_S
        audit = await self._audit.about_target(detail.target, detail.opened_at - SLACK_S, until)
        detail.timeline = build_timeline(
            situation=detail.situation,
            health=detail.health,
            status=detail.status,
            opened_at=detail.opened_at,
            closed_at=detail.closed_at,
            evidence=detail.evidence,
            credits=detail.credits,
            audit=audit,
            journal=[
                (e.ts, e.kind, e.actor, e.text) for e in await self._repository.events(detail.id)
            ],
            messages=[
                (m.ts, m.sender, m.text)
                for prefix in (f"incident {detail.id}:", f"incident {detail.id} (")
                for m in await self._messages.starting(prefix, detail.opened_at - SLACK_S)
            ],
        )
        return detail

    async def postmortem(self, incident_id: int) -> Postmortem:
        """The incident's postmortem: its detail and timeline, and the facts it taught."""
        from agent.ops.postmortem import LearnedFact, build_postmortem  # it reads this module

        detail = await self.get(incident_id)
        until = None if detail.closed_at is None else detail.closed_at + SLACK_S
        learned = await self._facts.learned_from(detail.situation, detail.opened_at, until)
        facts = [
            LearnedFact(
                agent=name,
                subject=fact.subject,
                predicate=fact.predicate,
                value=fact.value,
                confidence=fact.confidence,
            )
            for name, fact in learned
        ]
        return build_postmortem(detail, facts)

    async def awaiting_approval(self, target: str, situation: str | None) -> bool:
        """Whether an incident on `target` (showing `situation`, when given) waits for a
        person's approval of its remedy right now."""
        return any(
            row.target == target and situation in (None, row.situation)
            for row in await self._repository.list("awaiting_approval")
        )
