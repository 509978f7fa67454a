"""Behaviour patterns: named habits with triggers, a match score against the context, an action.

A trigger compares one feature of the context with a threshold; its satisfaction rises
smoothly from 0 to 1 across `width` around the threshold, so a pattern's match score says how
strongly the situation calls for it. A pattern runs when every trigger is at least half met.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class PatternAction(StrEnum):
    FAVOUR_RECHECK = "favour_recheck"
    FAVOUR_ASK_HUMAN = "favour_ask_human"
    SHARE_SUCCESS = "share_success"


class Trigger(BaseModel):
    model_config = ConfigDict(frozen=True)

    feature: str
    above: bool
    threshold: float
    width: float = 0.1

    def satisfaction(self, context: Mapping[str, float]) -> float:
        value = context.get(self.feature, 0.0)
        distance = (value - self.threshold) if self.above else (self.threshold - value)
        return max(0.0, min(1.0, 0.5 + distance / (2 * self.width)))


class BehaviourPattern(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    triggers: tuple[Trigger, ...]
    action: PatternAction
    #: How much a full match adds to the favoured option's utility.
    strength: float = 0.3

    def match(self, context: Mapping[str, float]) -> float:
        """0 when any trigger is clearly unmet; otherwise the mean satisfaction."""
        scores = [t.satisfaction(context) for t in self.triggers]
        if min(scores) < 0.5:
            return 0.0
        return sum(scores) / len(scores)


DOUBLE_CHECK_WHEN_ANXIOUS = BehaviourPattern(
    name="double-check when anxious",
    description="fear well above its resting level makes the agent look again before acting",
    triggers=(Trigger(feature="fear_above_baseline", above=True, threshold=0.15),),
    action=PatternAction.FAVOUR_RECHECK,
)
ASK_HUMAN_WHEN_UNSURE = BehaviourPattern(
    name="ask a human when unsure",
    description="low confidence about a risky action hands the choice to the operator",
    triggers=(
        Trigger(feature="confidence", above=False, threshold=0.45),
        Trigger(feature="action_risk", above=True, threshold=0.4),
    ),
    action=PatternAction.FAVOUR_ASK_HUMAN,
    strength=0.4,
)
SHARE_SUCCESS_WHEN_EXTRAVERTED = BehaviourPattern(
    name="share a success when extraverted",
    description="an outgoing agent tells the team when something worked",
    triggers=(
        Trigger(feature="success", above=True, threshold=0.5),
        Trigger(feature="extraversion", above=True, threshold=0.6),
    ),
    action=PatternAction.SHARE_SUCCESS,
)

PATTERNS: tuple[BehaviourPattern, ...] = (
    DOUBLE_CHECK_WHEN_ANXIOUS,
    ASK_HUMAN_WHEN_UNSURE,
    SHARE_SUCCESS_WHEN_EXTRAVERTED,
)


def matching(
    context: Mapping[str, float],
    actions: set[PatternAction],
    patterns: tuple[BehaviourPattern, ...] = PATTERNS,
) -> list[tuple[BehaviourPattern, float]]:
    """Patterns with one of `actions` that match the context, with their scores."""
    found = [(p, p.match(context)) for p in patterns if p.action in actions]
    return [(p, score) for p, score in found if score > 0]
