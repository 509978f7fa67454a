"""Relationships between agents and with operators, and settling two agents' conflicting plans.

Trust is an exponentially weighted average of what the subject saw the other do (a delta rule,
as in Rescorla & Wagner 1972): each outcome moves it a fixed fraction of the way toward 1
(success) or 0 (failure), so recent evidence counts most and one surprise never flips it.
Affinity is liking: nudged up by good experiences and down by bad ones and by conflicts.
Both drift back toward neutral (0.5) without contact, exponentially with a half-life, once a
grace period has passed.

Stored rows hold the values as of `last_contact`; decay is applied in memory by
`maintain_relationships` (and before each new interaction), from the last point it was applied
to, so a restart replays exactly the decay the running process had applied.

Everything here is pure over plain data: the clock comes in as `now`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from agent.decision.risk import RiskLevel
from storage.tables import RelationshipRow

NEUTRAL = 0.5
#: Fraction of the way trust moves toward an observed outcome (1 success, 0 failure).
TRUST_RATE = 0.15
AFFINITY_UP = 0.05
AFFINITY_DOWN = 0.03
#: An operator's praise builds trust faster than criticism erodes it (criticism is also help).
FEEDBACK_TRUST_UP = 0.10
FEEDBACK_TRUST_DOWN = 0.05
FEEDBACK_AFFINITY_UP = 0.08
FEEDBACK_AFFINITY_DOWN = 0.05
#: Losing a conflict stings a little; trust waits until the outcome is known.
CONFLICT_AFFINITY = 0.04
#: Being handed an incident by a teammate who is better at it is a small compliment returned:
#: the one who hands over likes the taker a little more; trust waits for the outcome.
HANDOVER_AFFINITY = 0.02
HALF_LIFE_S = 7 * 86400.0
#: Contact within this long keeps a relationship from fading at all.
GRACE_S = 3600.0

#: Weights of the conflict score: record, confidence, risk (of 4), trust above neutral.
W_RECORD = 0.5
W_CONFIDENCE = 0.2
W_RISK = 0.3
W_TRUST = 0.4

_EPSILON = 1e-9


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


@dataclass
class Relationship:
    """How `subject` regards `other` (an agent, or an operator as `operator:<name>`)."""

    subject: str
    other: str
    trust: float = NEUTRAL
    affinity: float = NEUTRAL
    interactions: int = 0
    last_contact: float = 0.0
    dirty: bool = field(default=False, compare=False)
    #: The time decay has been applied up to (in memory only).
    decayed_to: float = field(default=0.0, compare=False, repr=False)


def _decay(rel: Relationship, now: float, half_life_s: float) -> bool:
    """Move trust and affinity toward neutral for the idle time not yet accounted for.

    Values set before any contact (a configured starting trust) have no contact to fade from.
    """
    start = max(rel.decayed_to, rel.last_contact + GRACE_S)
    if rel.interactions == 0 or now <= start:
        return False
    rel.decayed_to = now
    factor = math.pow(0.5, (now - start) / half_life_s)
    trust = NEUTRAL + (rel.trust - NEUTRAL) * factor
    affinity = NEUTRAL + (rel.affinity - NEUTRAL) * factor
    changed = abs(trust - rel.trust) > _EPSILON or abs(affinity - rel.affinity) > _EPSILON
    rel.trust, rel.affinity = trust, affinity
    return changed


#: Told of every relationship an interaction changed, with what changed it.
OnChange = Callable[[Relationship, str], None]


class Relationships:
    """Every relationship the kernel knows, in memory; written behind as `dirty_rows`.

    `on_change` hears of every interaction (the kernel publishes it as an event, so the
    workbench's team view moves live); decay by maintenance is not an interaction.
    """

    def __init__(self, on_change: OnChange | None = None) -> None:
        self._map: dict[tuple[str, str], Relationship] = {}
        self.on_change = on_change

    def _changed(self, rel: Relationship, cause: str) -> Relationship:
        if self.on_change is not None:
            self.on_change(rel, cause)
        return rel

    def __len__(self) -> int:
        return len(self._map)

    def get(self, subject: str, other: str) -> Relationship:
        """The relationship, created neutral (0.5 / 0.5) on first use."""
        rel = self._map.get((subject, other))
        if rel is None:
            rel = self._map[subject, other] = Relationship(subject, other)
        return rel

    def of(self, subject: str) -> list[Relationship]:
        """`subject`'s relationships, by the other's name."""
        return sorted((r for (s, _), r in self._map.items() if s == subject), key=lambda r: r.other)

    def weight(self, subject: str, other: str) -> float:
        """How much `other`'s advice or observations count for `subject`, in [0, 1].

        The subject's trust in the other; a stranger gets the neutral 0.5 (and no entry).
        """
        rel = self._map.get((subject, other))
        return NEUTRAL if rel is None else _clamp(rel.trust)

    def _touch(self, subject: str, other: str, now: float) -> Relationship:
        rel = self.get(subject, other)
        _decay(rel, now, HALF_LIFE_S)
        rel.interactions += 1
        rel.last_contact = max(rel.last_contact, now)
        rel.decayed_to = max(rel.decayed_to, now)
        rel.dirty = True
        return rel

    def record_outcome(self, subject: str, other: str, success: bool, now: float) -> Relationship:
        """`subject` saw `other`'s action succeed or fail."""
        rel = self._touch(subject, other, now)
        goal = 1.0 if success else 0.0
        rel.trust = _clamp(rel.trust + TRUST_RATE * (goal - rel.trust))
        rel.affinity = _clamp(rel.affinity + (AFFINITY_UP if success else -AFFINITY_DOWN))
        return self._changed(rel, "outcome")

    def record_feedback(
        self, subject: str, operator: str, positive: bool, now: float
    ) -> Relationship:
        """The agent `subject` got praise or criticism from `operator`."""
        rel = self._touch(subject, operator, now)
        if positive:
            rel.trust = _clamp(rel.trust + FEEDBACK_TRUST_UP * (1.0 - rel.trust))
            rel.affinity = _clamp(rel.affinity + FEEDBACK_AFFINITY_UP)
        else:
            rel.trust = _clamp(rel.trust - FEEDBACK_TRUST_DOWN * rel.trust)
            rel.affinity = _clamp(rel.affinity - FEEDBACK_AFFINITY_DOWN)
        return self._changed(rel, "feedback")

    def record_conflict(self, loser: str, winner: str, now: float) -> Relationship:
        """`loser`'s plan was overruled by `winner`'s: affinity drops a little, trust waits."""
        rel = self._touch(loser, winner, now)
        rel.affinity = _clamp(rel.affinity - CONFLICT_AFFINITY)
        return self._changed(rel, "conflict")

    def record_handover(self, giver: str, taker: str, now: float) -> Relationship:
        """`giver` handed work to `taker` (better at it): one more contact, a little more
        liking; trust moves when `giver` sees how the taker's remedies do."""
        rel = self._touch(giver, taker, now)
        rel.affinity = _clamp(rel.affinity + HANDOVER_AFFINITY)
        return self._changed(rel, "handover")

    def maintain_relationships(self, now: float, half_life_s: float = HALF_LIFE_S) -> int:
        """Let relationships without recent contact fade toward neutral; return how many did.

        Not marked dirty: the stored row keeps the values as of the last contact, and loading
        it then maintaining reproduces these values.
        """
        if half_life_s <= 0:
            raise ValueError(f"half_life_s must be positive, not {half_life_s}")
        return sum(_decay(rel, now, half_life_s) for rel in self._map.values())

    def dirty_rows(self) -> list[RelationshipRow]:
        """Rows for the relationships changed since the last call (their dirty flag is cleared).

        If writing them fails, set `get(subject, other).dirty = True` again.
        """
        rows = []
        for rel in self._map.values():
            if rel.dirty:
                rel.dirty = False
                rows.append(
                    RelationshipRow(
                        subject=rel.subject,
                        other=rel.other,
                        trust=rel.trust,
                        affinity=rel.affinity,
                        interactions=rel.interactions,
                        last_contact=rel.last_contact,
                    )
                )
        return rows

    def load(self, rows: Iterable[RelationshipRow]) -> None:
        """Take stored relationships as they were at their last contact (clean, not decayed)."""
        for row in rows:
            self._map[row.subject, row.other] = Relationship(
                subject=row.subject,
                other=row.other,
                trust=_clamp(row.trust),
                affinity=_clamp(row.affinity),
                interactions=row.interactions,
                last_contact=row.last_contact,
                decayed_to=row.last_contact,
            )


class Proposal(BaseModel):
    """One agent's plan for a target, with what speaks for it."""

    model_config = ConfigDict(frozen=True)

    agent: str
    action: str
    target: str
    risk: int = Field(ge=0, le=4)
    #: The proposer's success rate with this action, in [0, 1].
    success_rate: float = Field(ge=0.0, le=1.0)
    confidence: float = Field(ge=0.0, le=1.0)


class Resolution(BaseModel):
    model_config = ConfigDict(frozen=True)

    winner: Proposal
    loser: Proposal
    #: Each proposer's total score, by agent name.
    scores: dict[str, float]
    explanation: str


def _factors(p: Proposal, judge: str, relationships: Relationships) -> dict[str, float]:
    return {
        "record": p.success_rate * W_RECORD,
        "confidence": p.confidence * W_CONFIDENCE,
        "risk": -p.risk / 4 * W_RISK,
        "trust": (relationships.weight(judge, p.agent) - NEUTRAL) * W_TRUST,
    }


def resolve_conflict(a: Proposal, b: Proposal, relationships: Relationships) -> Resolution:
    """Settle two agents' conflicting proposals for one target, and say why.

    score = 0.5 record + 0.2 confidence - 0.3 risk/4 + 0.4 (trust of the other agent in the
    proposer - 0.5). A tie goes to the lower risk, then the better record, then the name that
    sorts first, so the result does not depend on the order of the arguments.
    """
    if a.agent == b.agent:
        raise ValueError(f"a conflict needs two agents; both proposals are {a.agent}'s")
    if a.target != b.target:
        raise ValueError(f"no conflict: {a.agent} targets {a.target}, {b.agent} {b.target}")
    fa, fb = _factors(a, b.agent, relationships), _factors(b, a.agent, relationships)
    sa, sb = sum(fa.values()), sum(fb.values())
    if abs(sa - sb) > _EPSILON:
        a_wins = sa > sb
        tie = ""
    else:
        a_wins = (a.risk, -a.success_rate, a.agent) < (b.risk, -b.success_rate, b.agent)
        tie = "; tied, so the safer, better-proven proposal goes first"
    win, lose, f_win, f_lose = (a, b, fa, fb) if a_wins else (b, a, fb, fa)
    edge = {name: f_win[name] - f_lose[name] for name in f_win}
    parts = [
        f"record {win.success_rate:.2f} vs {lose.success_rate:.2f} ({edge['record']:+.2f})",
        f"confidence {win.confidence:.2f} vs {lose.confidence:.2f} ({edge['confidence']:+.2f})",
        f"risk {RiskLevel(win.risk)} vs {RiskLevel(lose.risk)} ({edge['risk']:+.2f})",
        f"{lose.agent} trusts {win.agent} {relationships.weight(lose.agent, win.agent):.2f} vs "
        f"{win.agent} trusts {lose.agent} {relationships.weight(win.agent, lose.agent):.2f} "
        f"({edge['trust']:+.2f})",
    ]
    explanation = (
        f"{win.agent}'s {win.action} wins over {lose.agent}'s {lose.action} on {win.target}, "
        f"{sum(f_win.values()):.2f} to {sum(f_lose.values()):.2f}: {', '.join(parts)}{tie}"
    )
    return Resolution(
        winner=win,
        loser=lose,
        scores={a.agent: sa, b.agent: sb},
        explanation=explanation,
    )
