"""Incidents, read-only: the same JSON as `webops incident list` / `show --json`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from agent.ops.evidence import MAX_LIST, IncidentDetail
from agent.ops.incidents import IncidentStatus
from webops_tui.api.auth import KernelDep, Viewer

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
