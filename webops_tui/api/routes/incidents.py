"""Incidents: the same JSON as `webops incident list` / `show --json` / `report --format json`,
and a person's ack / resolve / reopen / notes (operator role), as `webops incident ack` etc."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from agent.core.incident_lifecycle import MAX_NOTE
from agent.ops.evidence import MAX_LIST, IncidentDetail
from agent.ops.incidents import IncidentStatus
from agent.ops.postmortem import Postmortem
from webops_tui.api.auth import KernelDep, Operator, Viewer

router = APIRouter(prefix="/api", tags=["incidents"])

#: SQLite's integer range: a larger id can be no incident.
IncidentId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/incidents")
async def incidents(
    _: Viewer,
    kernel: KernelDep,
    status: IncidentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 50,
) -> list[IncidentDetail]:
    """Newest first, each with the checks that confirmed it and each remedy's credit."""
    return await kernel.incidents(status, limit)


@router.get("/incidents/{incident_id}")
async def incident(incident_id: IncidentId, _: Viewer, kernel: KernelDep) -> IncidentDetail:
    return await kernel.incident(incident_id)


@router.get("/incidents/{incident_id}/report")
async def report(incident_id: IncidentId, _: Viewer, kernel: KernelDep) -> Postmortem:
    """The postmortem, as `webops incident report ID --format json`."""
    return await kernel.incident_report(incident_id)


class NoteBody(BaseModel):
    """Why, for the record (optional for resolve and reopen, required for a note)."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=MAX_NOTE)


class NoteText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_NOTE)


@router.post("/incidents/{incident_id}/ack")
async def ack(incident_id: IncidentId, caller: Operator, kernel: KernelDep) -> IncidentDetail:
    """Acknowledge: the caller is on it; reminders stop."""
    return await kernel.ack_incident(incident_id, by=caller.actor)


@router.post("/incidents/{incident_id}/resolve")
async def resolve(
    incident_id: IncidentId, caller: Operator, kernel: KernelDep, body: NoteBody | None = None
) -> IncidentDetail:
    """Resolve it: the agents stop working it; a remedy waiting for approval is withdrawn."""
    note = body.note if body else None
    return await kernel.resolve_incident(incident_id, by=caller.actor, note=note)


@router.post("/incidents/{incident_id}/reopen")
async def reopen(
    incident_id: IncidentId, caller: Operator, kernel: KernelDep, body: NoteBody | None = None
) -> IncidentDetail:
    """Reopen it: the agents take it up again if the target still fails."""
    note = body.note if body else None
    return await kernel.reopen_incident(incident_id, by=caller.actor, note=note)


@router.post("/incidents/{incident_id}/notes")
async def add_note(
    incident_id: IncidentId, body: NoteText, caller: Operator, kernel: KernelDep
) -> IncidentDetail:
    """Add a note to the incident's timeline."""
    return await kernel.note_incident(incident_id, body.text, by=caller.actor)
