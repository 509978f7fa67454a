"""What a person does to an incident: acknowledge it, resolve it, reopen it, add a note.

The agents open, work and close incidents; an on-call engineer must be able to say "I am on
it" (ack: reminders stop, `IncidentAcknowledged`), "this is over" (resolve, even one the agents
gave up on) or "it is not over" (reopen), and leave notes for the postmortem. Each change is
written on the incident row, journalled in `incident_event` (the timeline and the report read
it), audited, and published as an event, so the workbench, notifications and `serve --watch`
all see it. A resolve or reopen bumps the row's `person_rev`: the autopilot writes only over the
revision it read (storage/repositories/incidents.py `save`), and re-reads it before each turn
(agent/core/person_overrides.py), so a person's word is never overwritten by the loop, in this
process or another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.core.audit_trail import os_actor
from agent.errors import InvalidInput, NotFound
from agent.events import IncidentAcknowledged
from agent.ops.evidence import OPEN_STATUSES, IncidentDetail
from agent.ops.incidents import changed_event
from storage.repositories.incidents import IncidentRepository
from storage.tables import IncidentEventRow, IncidentRow

if TYPE_CHECKING:
    from agent.core.kernel import Kernel

#: The longest note kept (a postmortem line, not a log dump).
MAX_NOTE = 2000
#: Why a pending remedy is withdrawn when a person resolves its incident.
RESOLVED_BY_PERSON = "the incident was resolved by a person"


def _text(note: str | None) -> str:
    """A note as stored: trimmed; too long or empty (when required) is bad input."""
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"a note may be at most {MAX_NOTE} characters, not {len(text)}")
    return text


class IncidentLifecycle:
    """The kernel's people-side of incidents (`Kernel.ack_incident` and the rest)."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.rows = IncidentRepository(kernel.database)

    async def _row(self, incident_id: int) -> IncidentRow:
        row = await self.rows.get(incident_id) if 1 <= incident_id < 2**63 else None
        if row is None:
            raise NotFound(f"no incident with id {incident_id}")
        return row

    async def _journal(
        self, row: IncidentRow, kind: str, by: str, text: str, ts: float | None = None
    ) -> None:
        """Journalled (at `ts`: a resolve's close time, so its step sorts with the close),
        and audited."""
        assert row.id is not None
        ts = self.kernel.clock() if ts is None else ts
        await self.rows.add_event(
            IncidentEventRow(incident_id=row.id, ts=ts, kind=kind, actor=by, text=text)
        )
        detail = {"incident_id": row.id, **({"note": text} if text else {})}
        await self.kernel.audit_trail.change(by, f"incident_{kind}", detail, target=row.target)

    def _publish(self, row: IncidentRow) -> None:
        self.kernel.bus.publish(changed_event(row, self.kernel.clock()))

    async def acknowledge(self, incident_id: int, by: str | None) -> IncidentDetail:
        """Someone is on it: reminders stop. Acknowledging a closed one is bad input."""
        who = by or os_actor()
        row = await self._row(incident_id)
        if row.status not in (*OPEN_STATUSES, "failed"):
            raise InvalidInput(f"incident {incident_id} is {row.status}; nothing to acknowledge")
        await self.rows.acknowledge(incident_id, who, self.kernel.clock())
        await self._journal(row, "acknowledged", who, "")
        self.kernel.bus.publish(
            IncidentAcknowledged(
                agent=row.owner,
                incident_id=incident_id,
                target=row.target,
                by=who,
                ts=self.kernel.clock(),
            )
        )
        return await self.kernel.incident(incident_id)

    async def resolve(self, incident_id: int, by: str | None, note: str | None) -> IncidentDetail:
        """A person says it is over: closed as resolved, the agents stop working it, and a
        remedy still waiting for approval is withdrawn (nobody should run it now)."""
        who, text = by or os_actor(), _text(note)
        row = await self._row(incident_id)
        if row.status not in (*OPEN_STATUSES, "failed"):
            raise InvalidInput(f"incident {incident_id} is already {row.status}")
        now = self.kernel.clock()
        summary = f"resolved by {who}" + (f": {text}" if text else "")
        await self.rows.person_change(
            incident_id, {"status": "resolved", "closed_at": now, "summary": summary}
        )
        for approval in await self.kernel.approvals("pending"):
            if approval.target == row.target and approval.created_at >= row.opened_at:
                await self.kernel.withdraw(approval.id, RESOLVED_BY_PERSON)
        await self._journal(row, "resolved", who, text, now)
        row.status, row.closed_at, row.summary = "resolved", now, summary
        self._publish(row)
        return await self.kernel.incident(incident_id)

    async def reopen(self, incident_id: int, by: str | None, note: str | None) -> IncidentDetail:
        """A person says it is not over: open again (acknowledgement cleared, so reminders
        start again); the agents take it up when the target's checks still fail. Refused while
        another incident on the same target is being worked."""
        who, text = by or os_actor(), _text(note)
        row = await self._row(incident_id)
        if row.status in OPEN_STATUSES:
            raise InvalidInput(f"incident {incident_id} is {row.status}, not closed")
        for other in await self.rows.list(statuses=OPEN_STATUSES, target=row.target, limit=1):
            raise InvalidInput(
                f"incident {other.id} on {row.target} is {other.status}; "
                "resolve it before reopening this one"
            )
        summary = f"reopened by {who}" + (f": {text}" if text else "")
        values: dict[str, object] = {
            "status": "open",
            "closed_at": None,
            "summary": summary,
            "acknowledged_at": None,
            "acknowledged_by": None,
        }
        await self.rows.person_change(incident_id, values)
        await self._journal(row, "reopened", who, text)
        row.status, row.closed_at, row.summary = "open", None, summary
        self._publish(row)
        return await self.kernel.incident(incident_id)

    async def note(self, incident_id: int, by: str | None, text: str) -> IncidentDetail:
        """A note for the record (open or closed incidents alike: postmortems come later)."""
        who, kept = by or os_actor(), _text(text)
        if not kept:
            raise InvalidInput("a note needs some text")
        row = await self._row(incident_id)
        await self._journal(row, "note", who, kept)
        return await self.kernel.incident(incident_id)
