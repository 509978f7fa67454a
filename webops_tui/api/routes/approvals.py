"""The approvals queue and the audit log; every decision made here is audited with the token."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from agent.core.approval_view import ApprovalView
from storage.repositories.audit import AuditEntry, AuditVerification
from webops_tui.api.auth import KernelDep, Operator, Viewer

router = APIRouter(prefix="/api", tags=["approvals"])

#: SQLite's integer range: a larger id can be no approval, and would overflow the driver.
ApprovalId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/approvals")
async def approvals(
    _: Viewer,
    kernel: KernelDep,
    status: Literal[
        "pending", "approved", "denied", "executed", "failed", "withdrawn", "all"
    ] = "pending",
) -> list[ApprovalView]:
    return await kernel.approvals(None if status == "all" else status)


@router.get("/approvals/{approval_id}")
async def approval(approval_id: ApprovalId, _: Viewer, kernel: KernelDep) -> ApprovalView:
    return await kernel.approval(approval_id)


@router.post("/approvals/{approval_id}/approve")
async def approve(approval_id: ApprovalId, caller: Operator, kernel: KernelDep) -> ApprovalView:
    """Grant a pending approval and run the action now; the result comes back with it."""
    return await kernel.approve(approval_id, by=caller.actor)


@router.post("/approvals/{approval_id}/deny")
async def deny(approval_id: ApprovalId, caller: Operator, kernel: KernelDep) -> ApprovalView:
    return await kernel.deny(approval_id, by=caller.actor)


@router.get("/audit", tags=["audit"], response_model=list[AuditEntry] | AuditVerification)
async def audit(
    _: Viewer,
    kernel: KernelDep,
    verify: bool = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    agent: str | None = None,
) -> list[AuditEntry] | AuditVerification:
    """Entries, newest first; with `verify=true`, whether the hash chain is intact instead."""
    if verify:
        return await kernel.verify_audit()
    return await kernel.audit_entries(limit, agent)
