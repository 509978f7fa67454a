"""How an agent acts: one action under its limits and timeout, and what it takes from the result.

Every action goes through `act`: the approval rule (refused above the risk threshold unless a
human approved it or autonomy was earned), the resource limits, the timeout, the audit record.
Then the agent learns from the result: its record with the action, its feelings, practice of
the skill, an episode in memory, and — for a fix — telling the team.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from typing import TYPE_CHECKING

from agent.core import adapting
from agent.core.resources import ResourceExhausted
from agent.core.thinking import importance
from agent.decision.reasoning import Decision
from agent.events import ActionFinished, ActionStarted, AgentSaid, BehaviourTriggered
from agent.mind.behaviour import PatternAction, matching
from agent.mind.emotions import Appraisal
from agent.skills.actions import ActionRequest, ActionResult, ActionSpec

if TYPE_CHECKING:
    from agent.core.agent import WebOpsAgent

#: Result data worth keeping in the action's episode.
_REMEMBERED_DATA = ("healthy", "latency_ms", "status_code")


async def act(
    agent: WebOpsAgent,
    request: ActionRequest,
    *,
    decision: Decision | None = None,
    approved: bool = False,
) -> ActionResult:
    """Run one action under the resource limits and its timeout.

    An action whose risk needs approval is refused unless `approved`; the kernel passes
    that only for an approval a human granted.
    """
    host = agent.host
    spec = host.actions.spec(request.action)
    if decision is not None and decision.action == spec.name:
        needs_approval = decision.requires_approval
    else:
        needs_approval = spec.risk > host.threshold
    if needs_approval and not approved:
        return ActionResult(
            action=spec.name,
            target=request.target,
            status="refused",
            detail="needs a human's approval",
        )
    result = await _run(agent, spec, request)
    agent.emit(
        lambda: ActionFinished(
            agent=agent.name,
            action=spec.name,
            target=request.target,
            status=result.status,
            detail=result.detail,
            duration_ms=round(result.duration_ms, 3),
            ts=agent.now(),
        )
    )
    await host.record_action(agent, request, result, decision, approved)
    if result.status != "refused":
        autonomous = (
            decision is not None
            and decision.explanation.autonomy is not None
            and bool(decision.explanation.autonomy.get("granted"))
        )
        await _take_in(agent, spec, request, result, approved=approved or autonomous)
    return result


async def _run(agent: WebOpsAgent, spec: ActionSpec, request: ActionRequest) -> ActionResult:
    """The action's handler under the limits; every way it can end becomes a result."""
    started = time.perf_counter()
    agent.emit(
        lambda: ActionStarted(
            agent=agent.name, action=spec.name, target=request.target, ts=agent.now()
        )
    )
    timeout = spec.timeout_s or agent.resources.limits.action_timeout_s
    try:
        with agent.resources.allocate():
            async with asyncio.timeout(timeout):
                output = await agent.host.actions.handler(spec.name)(request)
        return ActionResult(
            action=spec.name,
            target=request.target,
            status="succeeded" if output.ok else "failed",
            detail=output.detail,
            data=output.data,
            duration_ms=(time.perf_counter() - started) * 1000,
        )
    except ResourceExhausted as exc:
        return ActionResult(
            action=spec.name, target=request.target, status="refused", detail=exc.message
        )
    except TimeoutError:
        return ActionResult(
            action=spec.name,
            target=request.target,
            status="timeout",
            detail=f"no answer within {timeout:g} s",
            duration_ms=(time.perf_counter() - started) * 1000,
        )
    except Exception as exc:
        return ActionResult(
            action=spec.name,
            target=request.target,
            status="failed",
            detail=f"{type(exc).__name__}: {exc}",
            error=traceback.format_exc(),
            duration_ms=(time.perf_counter() - started) * 1000,
        )


async def _take_in(
    agent: WebOpsAgent,
    spec: ActionSpec,
    request: ActionRequest,
    result: ActionResult,
    *,
    approved: bool,
) -> None:
    """What an action that ran teaches: the record, feelings, the skill, an episode."""
    learn_outcome(agent, spec.name, result, severity=1.0, approved=approved)
    if spec.skill is not None:
        budget_ms = (spec.timeout_s or agent.resources.limits.action_timeout_s) * 1000
        agent.skills.practice_skill(
            spec.skill, result.ok, result.duration_ms <= budget_ms / 2, agent.now()
        )
        agent.mark_dirty()
    where = f" on {request.target}" if request.target else ""
    await agent.memory.remember(
        "action",
        f"{spec.name}{where}: {result.status} ({result.detail})",
        importance=importance(agent, 1.0 if not result.ok else 0.4 if spec.mutates else 0.15),
        situation=request.situation,
        details={
            "action": spec.name,
            "target": request.target,
            "status": result.status,
            "detail": result.detail,
            "mutates": spec.mutates,
            "duration_ms": round(result.duration_ms, 3),
            **{k: v for k, v in result.data.items() if k in _REMEMBERED_DATA},
        },
    )


def learn_outcome(
    agent: WebOpsAgent, action: str, result: ActionResult, severity: float, approved: bool = False
) -> None:
    """The agent's record with `action` and its feelings, after a result."""
    counts = agent.record_for(action)
    now = agent.now()
    if result.ok:
        counts.successes += 1
        counts.approved_successes += int(approved)
        counts.approved_streak += int(approved)
        counts.last_success_at = now
        agent.feel(Appraisal.SUCCESS, 0.5 + 0.5 * severity, cause=f"{action} worked")
        share_success(agent, result)
    else:
        counts.failures += 1
        counts.approved_streak = 0  # a failure takes earned autonomy back
        counts.last_failure_at = now
        agent.feel(Appraisal.FAILURE, 0.5 + 0.5 * severity, cause=f"{action} {result.status}")
        if result.status == "timeout":
            agent.feel(Appraisal.UNEXPECTED, 0.5, cause=f"{action} timed out")
    counts.dirty = True
    adapting.after_action(agent, action, result, approved, counts)


def success_message(agent: WebOpsAgent, result: ActionResult) -> str:
    """What the agent tells the team: verbosity decides how much, politeness how warmly."""
    effects = agent.mind.effects
    where = f" on {result.target}" if result.target else ""
    text = f"{result.action}{where} worked"
    if effects.verbosity >= 0.6:
        text += f" in {result.duration_ms:.0f} ms"
        if result.detail:
            text += f" ({result.detail})"
    if effects.politeness >= 0.75:
        text = f"Good news, everyone: {text}. Thanks for the patience!"
    return text


def share_success(agent: WebOpsAgent, result: ActionResult) -> None:
    if not agent.mutates(result.action):
        return  # a healthy check is not news; a fix is
    context = {"success": 1.0, "extraversion": agent.mind.personality.extraversion}
    bus = agent.host.bus
    for pattern, score in matching(context, {PatternAction.SHARE_SUCCESS}):
        if bus.active:
            now = agent.now()
            bus.publish(
                BehaviourTriggered(
                    agent=agent.name, pattern=pattern.name, score=round(score, 3), ts=now
                )
            )
            bus.publish(
                AgentSaid(
                    agent=agent.name, channel="team", text=success_message(agent, result), ts=now
                )
            )
