"""Which of an agent's experiences move its personality (the rules are in agent/mind/drift.py).

The agent's own outcomes are the experiences: incidents no remedy fixed, several in a row
(a single one is bad luck; the counter lives in memory only), a fix found by
trying something new, work handed to a teammate (`after_outcome`, from `WebOpsAgent.handle`);
a risky action that a person approved (or earned autonomy allowed) working again, an action
that timed out (`after_action`, from `acting.learn_outcome`); a person denying a proposal
(the approval gate calls `WebOpsAgent.adapt` itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.core.stimulus import Outcome
from agent.decision.risk import RiskLevel
from agent.mind.drift import Experience
from agent.skills.actions import ActionResult

if TYPE_CHECKING:
    from agent.core.agent import RecordCounts, WebOpsAgent

#: From this level on, a remedy that a person approved is a risk that went well.
RISKY = RiskLevel.MEDIUM
#: Incidents in a row that no remedy fixed before one makes the agent more careful.
FAILED_IN_A_ROW = 3
#: Approved successes in a row with a risky action before one lowers worry ("repeated").
APPROVED_STREAK = 2


def after_outcome(agent: WebOpsAgent, situation: str | None, outcome: Outcome) -> None:
    """What working a stimulus to its end taught the agent about itself."""
    where = f" ({situation})" if situation else ""
    remedies = [action for action, _ in outcome.tried if agent.mutates(action)]
    if outcome.status == "failed" and remedies:
        agent.failed_in_a_row += 1
        if agent.failed_in_a_row >= FAILED_IN_A_ROW:
            tried = ", ".join(remedies)
            agent.adapt(
                Experience.INCIDENT_FAILED,
                f"{agent.failed_in_a_row} in a row, this time tried {tried}{where}",
            )
        return
    if outcome.status == "succeeded":
        agent.failed_in_a_row = 0
    if outcome.status == "succeeded" and outcome.procedure_id is None:
        learning = outcome.decision.explanation.learning or {}
        if learning.get("explored") and outcome.tried and outcome.tried[-1][1]:
            agent.adapt(Experience.FIXED_BY_EXPLORING, f"{outcome.tried[-1][0]} fixed it{where}")
    elif outcome.status == "handed_over":
        agent.adapt(Experience.HANDED_OVER, outcome.summary)


def after_action(
    agent: WebOpsAgent, action: str, result: ActionResult, approved: bool, counts: RecordCounts
) -> None:
    """What one action's result taught the agent about itself (after its record moved)."""
    if result.status == "timeout":
        agent.adapt(Experience.TIMED_OUT, f"{action}: {result.detail}")
        return
    spec = agent.host.actions.spec(action)
    risky = spec.mutates and spec.risk >= RISKY
    if result.ok and approved and risky and counts.approved_streak >= APPROVED_STREAK:
        agent.adapt(
            Experience.RISKY_SUCCESS_APPROVED,
            f"{action} worked, {counts.approved_streak} approved successes in a row",
        )
