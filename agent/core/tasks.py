"""Task texts for scripts: `check shop`, `run restart-api on api`, `check https://...`.

Deliberately small and strict (richer language comes with conversations): a task names a
defined target or runbook, or an http(s) URL; anything else is refused with what is possible.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel

from agent.core.stimulus import Outcome, Stimulus, StimulusKind
from agent.decision.risk import Criticality
from agent.errors import InvalidInput
from agent.mind.emotions import Appraisal
from agent.ops.service import Ops
from agent.skills.actions import ActionRequest

CHECK_URL = re.compile(r"^\s*check\s+(https?://\S+)\s*$", re.IGNORECASE)
CHECK = re.compile(r"^\s*check\s+([A-Za-z][\w.-]*)\s*$", re.IGNORECASE)
RUN = re.compile(r"^\s*run\s+([A-Za-z][\w.-]*)(?:\s+on\s+([A-Za-z][\w.-]*))?\s*$", re.IGNORECASE)
HELP = "try 'check TARGET', 'check https://URL' or 'run RUNBOOK [on TARGET]'"

TaskStatus = Literal["succeeded", "failed", "awaiting_approval"]
#: How an outcome reads to whoever gave the task; anything else counts as failed.
_TASK_STATUS: dict[str, TaskStatus] = {
    "succeeded": "succeeded",
    "resolved": "succeeded",
    "recovered": "succeeded",
    "awaiting_approval": "awaiting_approval",
}


class TaskResult(BaseModel):
    """`webops task --json`."""

    task_id: str
    status: TaskStatus
    result: dict[str, Any] | None
    explanation: dict[str, Any]
    summary: str
    approval_id: int | None = None


def adhoc_url(text: str) -> str | None:
    """The URL of a `check https://...` task, or None for any other task."""
    match = CHECK_URL.match(text)
    return match.group(1) if match else None


async def undeclared_url(text: str, ops: Ops) -> str | None:
    """The URL a `check https://...` task names when no http target declares it. Only an
    admin may have those checked: otherwise an operator (a REST token, an MCP client) could
    probe any address and port the server reaches, a port scanner."""
    url = adhoc_url(text)
    if url is None:
        return None
    await ops.refresh()
    declared = {t.address for t in ops.targets.values() if t.kind == "http"}
    return None if url in declared else url


async def stimulus_for(text: str, ops: Ops) -> Stimulus:
    if match := CHECK_URL.match(text):
        url = match.group(1)
        return Stimulus(
            kind=StimulusKind.TASK,
            summary=f"check {url}",
            target=url,
            severity=0.5,
            evidence=1.0,
            action=ActionRequest(action="check_url", target=url, params={"url": url}),
        )
    if match := CHECK.match(text):
        target = await ops.target(match.group(1))
        return Stimulus(
            kind=StimulusKind.TASK,
            summary=f"check {target.name}",
            target=target.name,
            criticality=target.level,
            severity=0.5,
            evidence=1.0,
            action=ops.check_request(target.name),
        )
    if match := RUN.match(text):
        runbook = await ops.runbook(match.group(1))
        target_name = match.group(2) or runbook.verify_target
        criticality = Criticality.MEDIUM
        if target_name is not None:
            target = await ops.target(target_name)
            criticality = target.level
        situation = f"{target_name}:{runbook.name}" if target_name else runbook.name
        verify = runbook.verify_target or (target_name if target_name in ops.targets else None)
        return Stimulus(
            kind=StimulusKind.TASK,
            summary=f"run {runbook.name}" + (f" on {target_name}" if target_name else ""),
            target=target_name,
            criticality=criticality,
            severity=0.8,
            evidence=0.9,
            situation=situation,
            appraisal=Appraisal.THREAT if criticality >= Criticality.HIGH else None,
            intensity=0.3,
            action=ActionRequest(action=runbook.name, target=target_name, situation=situation),
            recheck=ops.check_request(verify) if verify else None,
        )
    raise InvalidInput(f"cannot understand the task {text.strip()!r}; {HELP}")


def task_result(outcome: Outcome) -> TaskResult:
    status = _TASK_STATUS.get(outcome.status, "failed")
    result = outcome.result.model_dump(mode="json") if outcome.result else None
    return TaskResult(
        task_id=uuid.uuid4().hex[:12],
        status=status,
        result=result,
        explanation=outcome.decision.explanation.model_dump(mode="json"),
        summary=outcome.summary if status != "failed" or not result else result["detail"],
        approval_id=outcome.approval_id,
    )
