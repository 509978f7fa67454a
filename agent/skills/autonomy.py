"""Earned autonomy: when an action above the operator's threshold may run without asking.

The rule (documented in the README, shown with every decision that needs approval):
- never for a critical action;
- otherwise after AUTONOMY_STREAK approved successes in a row with this action on this kind
  of target (a failure resets the streak, so a failure takes autonomy back), and
- only while the agent is at least "competent" with the skill the action uses.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from agent.decision.risk import RiskLevel
from agent.skills.actions import ActionSpec
from agent.skills.proficiency import LEVELS

AUTONOMY_STREAK = 3
MIN_PROFICIENCY = next(bound for bound, name in LEVELS if name == "competent")


class Autonomy(BaseModel):
    model_config = ConfigDict(frozen=True)

    granted: bool
    why: str


def earned_autonomy(
    level: RiskLevel, approved_streak: int, proficiency: float, skill: str | None
) -> Autonomy:
    if level >= RiskLevel.CRITICAL:
        return Autonomy(granted=False, why="critical actions always need a human")
    if approved_streak < AUTONOMY_STREAK:
        return Autonomy(
            granted=False,
            why=f"{approved_streak} of {AUTONOMY_STREAK} approved successes in a row "
            "(a failure resets the count)",
        )
    if proficiency < MIN_PROFICIENCY:
        return Autonomy(
            granted=False,
            why=f"proficiency {proficiency:.2f} with {skill or 'the skill'} is below "
            f"competent ({MIN_PROFICIENCY:.2f})",
        )
    return Autonomy(
        granted=True,
        why=f"auto-approved: {approved_streak} approved successes in a row, no failure since, "
        f"proficiency {proficiency:.2f}",
    )


def skill_autonomy(
    skill: str,
    streaks: Mapping[tuple[str, str], int],
    proficiency: float,
    actions: Mapping[str, ActionSpec],
    threshold: RiskLevel,
) -> tuple[bool, str]:
    """Whether the skill's actions above the threshold may skip the gate (granted when any of
    them earned it), and why. `streaks` holds the agent's approved streak per (action, target
    kind) it has a record of; `proficiency` is its proficiency with `skill`; `actions` the
    registered actions by name."""
    risky = [
        (name, streak)
        for (name, _kind), streak in streaks.items()
        if name in actions and actions[name].skill == skill and actions[name].risk > threshold
    ]
    if not risky:
        return True, f"its actions are at or below the {threshold} threshold"
    reasons = []
    for name, streak in risky:
        autonomy = earned_autonomy(actions[name].risk, streak, proficiency, skill)
        if autonomy.granted:
            return True, f"{name}: {autonomy.why}"
        reasons.append(f"{name}: {autonomy.why}")
    return False, "; ".join(reasons)
