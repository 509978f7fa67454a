"""An approval as the shells show it: the queue, `webops approvals`, the API, the workbench.

Apart from `agent.core.views` because it carries the action's dry run (agent/core/dry_runs.py,
which pulls in the decision layer): the read commands that build the other views (`webops
status` on the light path) need none of that.
"""

from __future__ import annotations

import json
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from agent.core.dry_runs import DryRun

#: Where an approval stands: waiting, decided, and (once approved) how its action went.
#: "withdrawn": the incident it was asked for recovered by itself before anyone decided.
ApprovalStatus = Literal["pending", "approved", "denied", "executed", "failed", "withdrawn"]


class ApprovalFields(Protocol):
    """An `approval` row as the ORM or the CLI's read-only reader hands it over."""

    @property
    def id(self) -> int | None: ...
    @property
    def action(self) -> str: ...
    @property
    def target(self) -> str | None: ...
    @property
    def risk(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def explanation(self) -> str: ...
    @property
    def result(self) -> str | None: ...
    @property
    def created_at(self) -> float: ...
    @property
    def decided_at(self) -> float | None: ...
    @property
    def decided_by(self) -> str | None: ...


class ApprovalView(BaseModel):
    id: int
    agent: str
    action: str
    target: str | None
    risk: str
    status: ApprovalStatus
    summary: str
    explanation: dict[str, Any]
    result: dict[str, Any] | None
    created_at: float
    decided_at: float | None
    decided_by: str | None
    #: What the action's dry run printed before the agent asked (agent/core/dry_runs.py).
    dry_run: DryRun | None = None

    @classmethod
    def from_row(cls, row: ApprovalFields, agent: str) -> ApprovalView:
        """Validated: a status in the file that this version does not know is refused."""
        explanation = json.loads(row.explanation)
        return cls.model_validate(
            {
                "id": row.id,
                "agent": agent,
                "action": row.action,
                "target": row.target,
                "risk": row.risk,
                "status": row.status,
                "summary": row.summary,
                "explanation": explanation,
                "result": json.loads(row.result) if row.result else None,
                "created_at": row.created_at,
                "decided_at": row.decided_at,
                "decided_by": row.decided_by,
                "dry_run": explanation.get("dry_run"),
            }
        )
