"""Who takes an incident: every teammate bids, the best bid owns it.

A bid adds what fits the agent for the job — proficiency with runbooks, what it learned about
this symptom, its will to volunteer (extraversion times confidence) — and subtracts the
incidents it already owns. Ties go to a seeded draw. Pure: the autopilot gathers the numbers
from the loaded agents and passes them in. When owner and runner-up propose different remedies,
`agent.social.relationships.resolve_conflict` settles it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agent.decision.risk import RiskLevel
from agent.memory.learning import ArmStats, Choice
from agent.social.relationships import Proposal

#: Weights of what the agent knows of the symptom, of volunteering, and of each owned incident.
KNOWN_WEIGHT = 0.5
VOLUNTEER_WEIGHT = 0.3
LOAD_WEIGHT = 0.5
#: Will to volunteer from which a bid counts as volunteering.
VOLUNTEERS_FROM = 0.35


@dataclass(frozen=True)
class Bid:
    agent: str
    score: float
    volunteer: bool
    why: str
    tiebreak: float


def known(arms: Mapping[tuple[str, str], ArmStats], situation: str) -> float:
    """The best value the agent learned for any remedy of `situation` (0 if it knows none)."""
    return max(
        (arm.value for (s, _a), arm in arms.items() if s == situation and arm.weight > 0),
        default=0.0,
    )


def loads(team: Iterable[str], owners: Iterable[str | None]) -> dict[str, int]:
    """How many of the open incidents each teammate owns."""
    load = {name: 0 for name in team}
    for owner in owners:
        if owner in load:
            load[owner] += 1
    return load


def bid(
    agent: str,
    *,
    proficiency: float,
    known: float,
    extraversion: float,
    confidence: float,
    load: int,
    tiebreak: float,
) -> Bid:
    """One teammate's bid; `confidence` is 0.5 plus the mood's confidence modifier."""
    volunteer = extraversion * max(0.0, min(1.0, confidence))
    score = proficiency + KNOWN_WEIGHT * known + VOLUNTEER_WEIGHT * volunteer - LOAD_WEIGHT * load
    return Bid(
        agent=agent,
        score=round(score, 4),
        volunteer=volunteer >= VOLUNTEERS_FROM,
        why=f"proficiency {proficiency:.2f}, knows this {known:.2f}, "
        f"volunteers {volunteer:.2f}, load {load}",
        tiebreak=tiebreak,
    )


def ranked(bids: Iterable[Bid]) -> list[Bid]:
    """Best first: the highest score, then the highest draw."""
    return sorted(bids, key=lambda b: (b.score, b.tiebreak), reverse=True)


def proposal(agent: str, choice: Choice, target: str, risk: RiskLevel) -> Proposal:
    """What an agent would do about an incident, as put to `resolve_conflict`: the remedy it
    chose, its risk, how well it worked (the learned value) and on how much experience."""
    stats = choice.candidates[choice.action]
    return Proposal(
        agent=agent,
        action=choice.action,
        target=target,
        risk=int(risk),
        success_rate=max(0.0, min(1.0, stats["value"])),
        confidence=min(1.0, stats["experience"] / 5),
    )
