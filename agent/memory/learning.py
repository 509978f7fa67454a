"""Learning which action works in which situation: a bandit per kind of situation.

Values are running means of rewards in [0, 1] (1 = the action fixed it). The choice is UCB1
(Auer et al. 2002) with an exploration constant that grows with the agent's openness, so a
curious agent keeps trying alternatives longer and a conservative one settles sooner:

    ucb(a) = value(a) + c * sqrt(ln(2 + N) / (n(a) + 1)),   c = 0.05 + 0.6 * exploration

(an untried action's value is the optimistic prior 0.5).

What memory says of an action in similar situations (agent/memory/precedents.py) comes in as a
prior of its own, (value, weight): it moves the value by its weight, which shrinks as the
agent's own experience here grows (`weight / (1 + n(a))`), so where the agent knows little
memory decides and once it has tried the action its own outcomes soon dominate. It is not
experience: the exploration bonus does not shrink for it.

Rewards can come from the agent's own outcomes (weight 1), from a human's feedback, and from
watching a teammate (weight `OBSERVATION_WEIGHT` x trust in the teammate, so another's
experience counts, but less than one's own).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

OBSERVATION_WEIGHT = 0.5
#: What an untried action is assumed to be worth.
PRIOR = 0.5


#: Reward and weight of each kind of human feedback.
class Feedback(StrEnum):
    APPROVE = "approve"
    DENY = "deny"
    GOOD = "good"
    BAD = "bad"


FEEDBACK: dict[Feedback, tuple[float, float]] = {
    Feedback.APPROVE: (1.0, 0.5),
    Feedback.DENY: (0.0, 1.0),
    Feedback.GOOD: (1.0, 1.0),
    Feedback.BAD: (0.0, 1.0),
}


@dataclass
class ArmStats:
    value: float = 0.0
    own: int = 0
    observed: float = 0.0
    dirty: bool = field(default=False, compare=False)

    @property
    def weight(self) -> float:
        return self.own + self.observed


@dataclass(frozen=True)
class Choice:
    """Which action was chosen and why: each candidate's value, experience and bonus."""

    action: str
    explored: bool
    candidates: dict[str, dict[str, float]]

    def as_dict(self) -> dict[str, object]:
        return {"action": self.action, "explored": self.explored, "candidates": self.candidates}


def exploration_constant(exploration: float) -> float:
    return 0.05 + 0.6 * exploration


class ActionValues:
    def __init__(self, exploration: float, rng: random.Random | None = None) -> None:
        self.c = exploration_constant(exploration)
        self.arms: dict[tuple[str, str], ArmStats] = {}
        self._rng = rng or random.Random(0)

    def stats(self, situation: str, action: str) -> ArmStats:
        return self.arms.setdefault((situation, action), ArmStats())

    def choose(
        self,
        situation: str,
        actions: Sequence[str],
        priors: Mapping[str, tuple[float, float]] | None = None,
    ) -> Choice:
        """UCB1 over `actions`, an untried action counting as `PRIOR` (an optimistic guess),
        each moved by what memory says of it (`priors`: value and weight, see the module).

        The prior, rather than UCB1's "try everything once", lets a remedy that is known to
        work win over the untried ones, while untried ones still beat known failures.
        """
        if not actions:
            raise ValueError("no actions to choose from")
        arms = {a: self.stats(situation, a) for a in actions}
        total = sum(arm.weight for arm in arms.values())
        table: dict[str, dict[str, float]] = {}
        best: list[str] = []
        best_score = -math.inf
        for action, arm in arms.items():
            value = arm.value if arm.weight > 0 else PRIOR
            remembered = (priors or {}).get(action)
            if remembered is not None:
                value = blend(value, arm.weight, *remembered)
            bonus = self.c * math.sqrt(math.log(2 + total) / (arm.weight + 1))
            score = value + bonus
            table[action] = {
                "value": round(value, 4),
                "experience": round(arm.weight, 2),
                "bonus": round(bonus, 4),
            }
            if remembered is not None:
                table[action]["memory"] = round(remembered[0], 4)
                table[action]["memory_weight"] = round(remembered[1], 4)
            if score > best_score + 1e-12:
                best, best_score = [action], score
            elif abs(score - best_score) <= 1e-12:
                best.append(action)
        chosen = best[0] if len(best) == 1 else self._rng.choice(best)
        greedy = max(arms, key=lambda a: (arms[a].weight > 0, arms[a].value))
        return Choice(action=chosen, explored=chosen != greedy, candidates=table)

    def update(
        self, situation: str, action: str, reward: float, weight: float = 1.0, own: bool = True
    ) -> ArmStats:
        """Move the running mean toward `reward` by `weight` samples' worth."""
        arm = self.stats(situation, action)
        reward = min(1.0, max(0.0, reward))
        arm.value += weight * (reward - arm.value) / (arm.weight + weight)
        if own:
            arm.own += 1
        else:
            arm.observed += weight
        arm.dirty = True
        return arm

    def observe(self, situation: str, action: str, reward: float, trust: float = 1.0) -> ArmStats:
        """Learn from a teammate's outcome, discounted against one's own."""
        weight = OBSERVATION_WEIGHT * min(1.0, max(0.0, trust))
        return self.update(situation, action, reward, weight=weight, own=False)

    def feedback(self, situation: str, action: str, kind: Feedback) -> ArmStats:
        reward, weight = FEEDBACK[kind]
        return self.update(situation, action, reward, weight=weight, own=False)


def blend(value: float, experience: float, prior: float, prior_weight: float) -> float:
    """`value` on `experience` observations moved by a `prior` worth `prior_weight`
    observations where there is no experience, and less the more there is."""
    weight = max(0.0, prior_weight) / (1.0 + max(0.0, experience))
    if experience <= 0:
        return prior if weight > 0 else value
    # The prior's share of the way from `value`, in [0, 1]: stays between the two however
    # small the experience (a weighted mean of 5e-324 observations rounded 0.75 up to 1.0).
    return value + (prior - value) * (weight / (experience + weight))
