"""What an incident is, apart from who handles it: its symptom, its statuses and its record.

The autopilot (agent/core/autopilot.py) opens, assigns and closes incidents; the pieces here
are plain data and pure functions, so they read (and test) without a kernel.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from agent.events import IncidentChanged
from agent.ops.confirmation import Fault
from agent.skills.actions import ActionOutput
from storage.tables import IncidentRow

#: Where an incident stands. "open" and "awaiting_approval" are still being handled.
IncidentStatus = Literal["open", "awaiting_approval", "resolved", "recovered", "failed"]
#: How an incident ends: fixed by a remedy or a re-check found it healthy (`resolved`), found
#: healthy just before a remedy would have changed anything (`recovered`, by itself), or not.
Closing = Literal["resolved", "recovered", "failed"]
#: Who answers the approvals an incident's owner asks for: a person (`human`), or a stand-in
#: operator that approves everything (`all`), nothing (`none`) or everything after a pause.
ApprovalPolicy = Literal["human", "all", "none", "wait"]
APPROVAL_POLICIES: tuple[ApprovalPolicy, ...] = ("human", "all", "none", "wait")
#: A remedy tried for an incident, and whether it fixed it.
Tried = tuple[str, bool]


def symptom(output: ActionOutput) -> str:
    """What a failed check looks like, as a kind of situation agents can learn about.

    Deliberately target-agnostic ("status=503", "refused", "slow"), so what one service
    taught applies to the next one showing the same symptom; with the target's context
    conditions the check broke after it ("status=503 & json.checks.db"), so two faults that
    look alike but are not (a dependency down, an overload) are learned apart.
    """
    context = [str(field) for field in output.data.get("context") or ()]
    return " & ".join([_symptom(output), *context])


def _symptom(output: ActionOutput) -> str:
    data = output.data
    if data.get("healthy") and data.get("slow"):
        return "slow"
    detail = output.detail.lower()
    for words, name in (
        ("refused", "refused"),
        ("timed out", "timeout"),
        ("not resolved", "unresolved"),
        ("tls", "tls"),
    ):
        if words in detail:
            return name
    for condition in data.get("conditions", []):
        if not condition.get("ok"):
            field_name = str(condition["condition"]).split()[0]
            if field_name == "status":
                return f"status={condition.get('actual')}"
            return field_name
    return "unhealthy"


def fault_of(text: str) -> Fault:
    """A stored incident's `health` column as a `Fault` (anything unknown reads as down)."""
    return "degraded" if text == "degraded" else "down"


def changed_event(row: IncidentRow, ts: float) -> IncidentChanged:
    """What the bus says of a stored incident's change (the loop's and a person's alike)."""
    assert row.id is not None
    return IncidentChanged(
        agent=row.owner,
        incident_id=row.id,
        target=row.target,
        situation=row.situation,
        status=row.status,
        owner=row.owner,
        steps=row.steps,
        summary=row.summary,
        health=fault_of(row.health),
        ts=ts,
    )


def tried_of(actions_json: str) -> list[Tried]:
    """The remedies a stored incident row says were tried (its `actions` column)."""
    return [(str(action), bool(fixed)) for action, fixed in json.loads(actions_json)]


@dataclass
class OpenIncident:
    """An incident being handled: its row (written on every change) and the handling state."""

    row: IncidentRow
    attempts: int = 0
    approval_id: int | None = None
    tried: list[Tried] = field(default_factory=list)
    #: Someone is working on it right now (a handling task, or the opening itself).
    busy: bool = False
    #: The owner's trusted procedure that fixed it, when one did.
    procedure_id: int | None = None
    #: Its close is being written: a second close meanwhile (a passing check and the remedy's
    #: verification at once) is the same close, not another.
    closing: bool = False

    def set_status(self, status: IncidentStatus) -> None:
        self.row.status = status

    def closed(self, status: Closing, kind: str | None) -> IncidentView:
        """The incident as closed with `status` (its row already says when)."""
        row = self.row
        assert row.id is not None and row.closed_at is not None
        return IncidentView(
            id=row.id,
            target=row.target,
            kind=kind,
            situation=row.situation,
            status=status,
            owner=row.owner,
            steps=row.steps,
            seconds=round(row.closed_at - row.opened_at, 3),
            actions=self.tried,
            health=fault_of(row.health),
            opened_at=row.opened_at,
            procedure_id=self.procedure_id,
        )

    def record(self, tried: list[Tried] | tuple[Tried, ...]) -> None:
        """Add remedies tried, in order, to the incident and its row."""
        self.tried.extend(tried)
        self.row.actions = json.dumps(self.tried)


class IncidentView(BaseModel):
    """A closed incident as the demo summary and the CLI show it."""

    id: int
    target: str
    kind: str | None
    situation: str
    status: Closing
    owner: str | None
    steps: int
    seconds: float | None
    actions: list[Tried]
    #: How the confirmed fault showed: "degraded" (slow, partial) or "down".
    health: Fault = "down"
    #: When it opened (epoch seconds, the kernel's clock).
    opened_at: float | None = None
    #: The owner's trusted procedure that fixed it (agent/core/remedy.py), when one did.
    procedure_id: int | None = None
