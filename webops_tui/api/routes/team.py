"""The team's relationships, read-only: the same JSON as `webops team --json`."""

from __future__ import annotations

from fastapi import APIRouter

from agent.social.team import PairView
from webops_tui.api.auth import KernelDep, Viewer

router = APIRouter(prefix="/api", tags=["team"])


@router.get("/team")
async def team(_: Viewer, kernel: KernelDep) -> list[PairView]:
    """How each agent regards each teammate (trust, affinity, contacts) and its operators."""
    return await kernel.team()
