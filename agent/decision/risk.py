"""Risk of an action: declared level, the target's criticality and the agent's own record.

risk = probability of failure x impact. The probability is the agent's record with the action,
smoothed toward a prior that grows with the declared level (a Beta prior, so an untried
high-risk action is not assumed safe); the impact grows with the level and the target's
criticality. Perception is personal: the same risk looms larger for an agent with low risk
tolerance (personality and fear both lower it).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agent.errors import InvalidInput

#: A risk level as operators write it and rows store it; `RiskLevel.parse` reads it.
RiskName = Literal["none", "low", "medium", "high", "critical"]
#: A target's criticality as operators write it and rows store it; `Criticality[...]` reads it.
CriticalityName = Literal["low", "medium", "high", "critical"]


class RiskLevel(IntEnum):
    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int | RiskLevel) -> RiskLevel:
        if isinstance(value, RiskLevel):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(str(level) for level in cls)
            raise InvalidInput(f"unknown risk level {value!r}; use one of {names}") from None


class Criticality(IntEnum):
    LOW = 0
    MEDIUM = 1
    HIGH = 2
    CRITICAL = 3

    def __str__(self) -> str:
        return self.name.lower()


PRIOR_FAILURE = {
    RiskLevel.NONE: 0.01,
    RiskLevel.LOW: 0.05,
    RiskLevel.MEDIUM: 0.15,
    RiskLevel.HIGH: 0.3,
    RiskLevel.CRITICAL: 0.45,
}
IMPACT = {
    RiskLevel.NONE: 0.0,
    RiskLevel.LOW: 0.2,
    RiskLevel.MEDIUM: 0.45,
    RiskLevel.HIGH: 0.75,
    RiskLevel.CRITICAL: 1.0,
}
CRITICALITY_FACTOR = {
    Criticality.LOW: 0.6,
    Criticality.MEDIUM: 0.8,
    Criticality.HIGH: 1.0,
    Criticality.CRITICAL: 1.25,
}
#: How many outcomes the prior is worth.
PRIOR_WEIGHT = 4.0


class Record(BaseModel):
    """An agent's history with one action."""

    model_config = ConfigDict(frozen=True)

    successes: int = 0
    failures: int = 0
    approved_successes: int = 0
    recent_failure: bool = False
    #: Approved (or autonomous) successes since the last failure.
    approved_streak: int = 0

    @property
    def runs(self) -> int:
        return self.successes + self.failures


class RiskAssessment(BaseModel):
    model_config = ConfigDict(frozen=True)

    level: RiskLevel
    effective_level: RiskLevel
    probability: float
    impact: float
    score: float
    perceived: float
    mitigations: tuple[str, ...]
    needs_approval: bool


def assess(
    level: RiskLevel,
    criticality: Criticality,
    record: Record,
    risk_tolerance: float,
    threshold: RiskLevel,
    *,
    supports_dry_run: bool = False,
) -> RiskAssessment:
    """Score an action and say which mitigations apply.

    An action whose effective level (the declared level, one higher on a critical target) is
    above the operator's `threshold` needs a human's approval.
    """
    prior = PRIOR_FAILURE[level]
    probability = (record.failures + prior * PRIOR_WEIGHT) / (record.runs + PRIOR_WEIGHT)
    impact = min(1.0, IMPACT[level] * CRITICALITY_FACTOR[criticality])
    score = probability * impact
    perceived = min(1.0, score * (1.5 - risk_tolerance))
    bump = 1 if criticality is Criticality.CRITICAL and level > RiskLevel.NONE else 0
    effective = RiskLevel(min(RiskLevel.CRITICAL, level + bump))
    needs_approval = effective > threshold
    mitigations: list[str] = []
    if probability > 0.1 or record.recent_failure:
        mitigations.append("recheck first")
    if supports_dry_run and level >= RiskLevel.MEDIUM:
        mitigations.append("dry run")
    if needs_approval:
        mitigations.append("human approval")
    return RiskAssessment(
        level=level,
        effective_level=effective,
        probability=round(probability, 4),
        impact=round(impact, 4),
        score=round(score, 4),
        perceived=round(perceived, 4),
        mitigations=tuple(mitigations),
        needs_approval=needs_approval,
    )
