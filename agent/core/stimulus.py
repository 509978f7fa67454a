"""What reaches an agent (a stimulus), what it makes of it (a thought), and what came of it."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.decision.reasoning import Decision, Situation
from agent.decision.risk import Criticality
from agent.mind.emotions import Appraisal
from agent.mind.mood import Mood
from agent.ops.evidence import Credit
from agent.skills.actions import ActionRequest, ActionResult


class StimulusKind(StrEnum):
    ALERT = "alert"
    TASK = "task"
    EVENT = "event"


class Stimulus(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: StimulusKind = StimulusKind.TASK
    summary: str
    target: str | None = None
    criticality: Criticality = Criticality.MEDIUM
    severity: float = Field(0.5, ge=0, le=1)
    evidence: float = Field(0.7, ge=0, le=1)
    #: The kind of situation ("shop:slow", "5xx"): what memory and learning are keyed by.
    situation: str | None = None
    #: What the agent would do about it, if anything.
    action: ActionRequest | None = None
    #: Remedies to choose from when no single action is given; the agent learns which works.
    candidates: tuple[ActionRequest, ...] = ()
    #: Remedies already tried for this incident (by earlier stimuli); not chosen again.
    tried: tuple[str, ...] = ()
    #: How to look again (a check); a recheck that passes means nothing needs doing.
    recheck: ActionRequest | None = None
    #: When (host clock) a failing check last confirmed the fault; a mutating remedy runs only
    #: on a confirmation this fresh (agent/core/remedy.py), else the agent re-checks first.
    confirmed_at: float | None = None
    #: An event to appraise before thinking (a threat to a critical target, praise ...).
    appraisal: Appraisal | None = None
    intensity: float = Field(1.0, ge=0, le=1)
    teammate: str | None = None
    teammate_proficiency: float = Field(0.0, ge=0, le=1)


class Thought(BaseModel):
    model_config = ConfigDict(frozen=True)

    situation: Situation
    decision: Decision
    emotions: dict[str, float]
    mood: Mood


#: "recovered": a re-check just before a mutating remedy found the target healthy, so nothing
#: ran (it recovered by itself); "resolved": a re-check found it healthy before any remedy.
OutcomeStatus = Literal[
    "succeeded",
    "failed",
    "awaiting_approval",
    "resolved",
    "recovered",
    "deferred",
    "waiting",
    "handed_over",
]


class Outcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: OutcomeStatus
    summary: str
    decision: Decision
    result: ActionResult | None = None
    approval_id: int | None = None
    rechecks: int = 0
    steps: int = 1
    #: Remedies tried, in order, with whether each fixed it.
    tried: tuple[tuple[str, bool], ...] = ()
    #: The trusted procedure whose replay fixed it (None when it ran and did not, or none ran).
    procedure_id: int | None = None
    #: Each remedy tried, in order, with the credit it got and why (agent/core/remedy.py).
    credits: tuple[Credit, ...] = ()
