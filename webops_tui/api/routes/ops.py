"""Targets and runbooks: what the team watches and which remedies it may run (admin to change)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from agent.core.kernel import Kernel
from agent.ops.targets import RunbookSpec, TargetSpec
from webops_tui.api.auth import Admin, KernelDep, Viewer

router = APIRouter(prefix="/api", tags=["ops"])


class RunbookView(RunbookSpec):
    """A runbook as listed, like `webops runbook list --json`: with `locked`, so a dashboard
    does not show a runbook whose secrets the key cannot open (and whose every run fails) as
    ready."""

    locked: str | None = Field(
        None, description="Why its secrets cannot be used (a missing or wrong key); null if usable."
    )


def _view(kernel: Kernel, spec: RunbookSpec) -> dict[str, Any]:
    return spec.public() | {"locked": kernel.ops.secrets.locked.get(spec.name)}


@router.get("/targets")
async def targets(_: Viewer, kernel: KernelDep) -> list[TargetSpec]:
    await kernel.ops.refresh()
    return sorted(kernel.ops.targets.values(), key=lambda t: t.name)


@router.get("/targets/{name}")
async def target(name: str, _: Viewer, kernel: KernelDep) -> TargetSpec:
    return await kernel.ops.target(name)


@router.post("/targets", status_code=201)
async def add_target(spec: TargetSpec, caller: Admin, kernel: KernelDep) -> TargetSpec:
    return await kernel.ops.add_target(spec, by=caller.actor)


@router.delete("/targets/{name}")
async def remove_target(name: str, caller: Admin, kernel: KernelDep) -> TargetSpec:
    return await kernel.ops.remove_target(name, by=caller.actor)


@router.get("/runbooks", response_model=list[RunbookView])
async def runbooks(_: Viewer, kernel: KernelDep) -> list[dict[str, Any]]:
    """Runbooks with secret values masked, each saying whether it is locked."""
    await kernel.ops.refresh()
    return [_view(kernel, r) for r in sorted(kernel.ops.runbooks.values(), key=lambda r: r.name)]


@router.get("/runbooks/{name}", response_model=RunbookView)
async def runbook(name: str, _: Viewer, kernel: KernelDep) -> dict[str, Any]:
    return _view(kernel, await kernel.ops.runbook(name))


@router.post("/runbooks", status_code=201, response_model=RunbookSpec)
async def add_runbook(spec: RunbookSpec, caller: Admin, kernel: KernelDep) -> dict[str, Any]:
    """Secrets in the body are stored encrypted and never shown again."""
    return (await kernel.ops.add_runbook(spec, by=caller.actor)).public()


@router.delete("/runbooks/{name}", response_model=RunbookSpec)
async def remove_runbook(name: str, caller: Admin, kernel: KernelDep) -> dict[str, Any]:
    return (await kernel.ops.remove_runbook(name, by=caller.actor)).public()
