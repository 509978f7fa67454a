"""Dry run first: the risk mitigation "dry run" (agent/decision/risk.py) really runs.

When a decision to run a remedy, or to ask a person to approve one, lists "dry run" among its
mitigations (the action has a dry-run form and is of medium risk or more), its dry-run form
runs before anything else (`dry_run_first`). What it printed goes into the decision's
explanation (`Explanation.dry_run`), so the approval a person reads shows it; a dry run that
fails (exit != 0, HTTP >= 400, a timeout) stops the real action, and the outcome says why;
when the team gives up on the incident after such an outcome, its close says so (`gave_up`).

A dry run teaches the agent nothing: it is not a run of the action (no record, no practice, no
feelings, no credit), only its audit entry (`event: dry_run`) says that it ran.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydantic import BaseModel

from agent.core.resources import ResourceExhausted
from agent.decision.reasoning import Decision
from agent.skills.actions import ActionRequest, ActionResult, ActionStatus

if TYPE_CHECKING:
    from agent.core.agent import WebOpsAgent

#: The mitigation's name, as `agent.decision.risk.assess` lists it.
MITIGATION = "dry run"


class DryRun(BaseModel):
    """What a dry run did: whether it passed, its one line, and what it printed (scrubbed of
    secrets and cut to `agent.ops.runbook_dry_run.OUTPUT_LIMIT` by the run)."""

    ok: bool
    status: ActionStatus
    detail: str
    output: str = ""
    duration_ms: float = 0.0

    def gave_up(self, action: str, attempts: int) -> str:
        """The incident's close when the last attempt ended at this failed dry run."""
        return (
            f"gave up after {attempts} attempts: the dry run of {action} failed: {self.detail}; "
            "escalate to a person"
        )

    def stopped(self, action: str) -> str:
        """Why the real action did not run."""
        return f"the dry run of {action} failed ({self.detail}); {action} did not run"


def gave_up(attempts: int, decision: Decision) -> str:
    """Why the team gave up on an incident after `attempts`, the last ended by `decision`:
    named when that was a failed dry run (the real remedy never ran), else the bare words."""
    dry = decision.explanation.dry_run
    if dry is not None and decision.action is not None:
        ran = DryRun.model_validate(dry)
        if not ran.ok:
            return ran.gave_up(decision.action, attempts)
    return f"gave up after {attempts} attempts; escalate to a person"


async def dry_run_first(
    agent: WebOpsAgent, request: ActionRequest, decision: Decision
) -> tuple[Decision, DryRun | None]:
    """Run the dry-run form of `request` when `decision` calls for one; the decision comes back
    with what it did in its explanation. (decision, None) when no dry run was called for."""
    risk = decision.explanation.risk
    if risk is None or MITIGATION not in risk.mitigations or decision.action != request.action:
        return decision, None
    dry_request = request.model_copy(update={"dry_run": True})
    result = await _run(agent, dry_request)
    await agent.host.record_action(agent, dry_request, result, decision, False)
    output = result.data.get("output")
    dry = DryRun(
        ok=result.ok,
        status=result.status,
        detail=result.detail,
        output=output if isinstance(output, str) else "",
        duration_ms=round(result.duration_ms, 1),
    )
    explanation = decision.explanation.model_copy(update={"dry_run": dry.model_dump()})
    return decision.model_copy(update={"explanation": explanation}), dry


async def _run(agent: WebOpsAgent, request: ActionRequest) -> ActionResult:
    """The action's handler in dry-run mode, under the agent's limits and the action's timeout;
    every way it can end is a result (a dry run that cannot run has failed)."""
    spec = agent.host.actions.spec(request.action)
    timeout = spec.timeout_s or agent.resources.limits.action_timeout_s
    started = time.perf_counter()
    status: ActionStatus
    data: dict[str, object] = {}
    if not spec.supports_dry_run:  # its handler knows no dry run: it would do the real thing
        status, detail = "refused", f"{spec.name} has no dry-run form"
    else:
        status, detail, data = await _handle(agent, request, timeout)
    return ActionResult(
        action=spec.name,
        target=request.target,
        status=status,
        detail=detail,
        data=data,
        duration_ms=(time.perf_counter() - started) * 1000,
    )


async def _handle(
    agent: WebOpsAgent, request: ActionRequest, limit_s: float
) -> tuple[ActionStatus, str, dict[str, object]]:
    """Run the handler under the limits and within `limit_s`: status, detail and data."""
    import asyncio

    status: ActionStatus
    data: dict[str, object] = {}
    try:
        with agent.resources.allocate():
            async with asyncio.timeout(limit_s):
                output = await agent.host.actions.handler(request.action)(request)
        status = "succeeded" if output.ok else "failed"
        detail, data = output.detail, output.data
    except ResourceExhausted as exc:
        status, detail = "refused", exc.message
    except TimeoutError:
        status, detail = "timeout", f"no answer within {limit_s:g} s"
    except Exception as exc:
        status, detail = "failed", f"{type(exc).__name__}: {exc}"
    return status, detail, data
