"""Actions an agent can take: each declares its risk level; handlers are async callables.

This is the seam the skills plug into: a skill registers an `ActionSpec` and a handler. The
kernel never runs a handler except through `WebOpsAgent.act`, which enforces resources,
timeouts and approvals.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.decision.risk import RiskLevel
from agent.errors import NotFound


class ActionSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    risk: RiskLevel = RiskLevel.NONE
    description: str = ""
    #: The kind of target it applies to ("http", "service", ...); records are kept per kind.
    target_kind: str = "any"
    expected_benefit: float = Field(0.7, ge=0, le=1)
    supports_dry_run: bool = False
    timeout_s: float | None = None
    #: Whether it changes the target (a remedy) or only looks at it (a check).
    mutates: bool = True
    #: The skill it exercises (proficiency grows with practice); None for bookkeeping actions.
    skill: str | None = None


class ActionRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: str
    target: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    dry_run: bool = False
    #: The kind of situation this is meant to resolve; what the agent learns values for.
    situation: str | None = None


class ActionOutput(BaseModel):
    """What a handler returns: did it work, a one-line detail, and structured data."""

    ok: bool
    detail: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


ActionStatus = Literal["succeeded", "failed", "timeout", "refused"]


class ActionResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: str
    target: str | None
    status: ActionStatus
    detail: str
    data: dict[str, Any] = Field(default_factory=dict)
    duration_ms: float = 0.0
    #: The traceback when the handler raised; the agent carries on either way.
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


#: The skill every runbook's action practises.
RUNBOOK_SKILL = "run_runbook"

Handler = Callable[[ActionRequest], Coroutine[Any, Any, ActionOutput]]


async def noop(request: ActionRequest) -> ActionOutput:
    """Does nothing, successfully: the reference action for benchmarks and dry runs."""
    return ActionOutput(ok=True, detail="nothing to do")


class ActionRegistry:
    def __init__(self) -> None:
        self._actions: dict[str, tuple[ActionSpec, Handler]] = {}
        self.register(ActionSpec(name="noop", description="does nothing", mutates=False), noop)

    def register(self, spec: ActionSpec, handler: Handler) -> None:
        self._actions[spec.name] = (spec, handler)

    def unregister(self, name: str) -> None:
        self._actions.pop(name, None)

    def spec(self, name: str) -> ActionSpec:
        return self._get(name)[0]

    def handler(self, name: str) -> Handler:
        return self._get(name)[1]

    def names(self) -> list[str]:
        return sorted(self._actions)

    def specs(self) -> dict[str, ActionSpec]:
        return {name: spec for name, (spec, _handler) in self._actions.items()}

    def _get(self, name: str) -> tuple[ActionSpec, Handler]:
        try:
            return self._actions[name]
        except KeyError:
            raise NotFound(f"no action named {name!r}") from None
