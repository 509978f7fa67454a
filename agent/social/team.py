"""The team as its members see each other: every pair's trust and affinity, for people to read.

`webops team`, `GET /api/team` and the workbench's Team tab show the same rows. Every ordered
pair of agents is listed, met or not (a pair that never worked together is neutral, 0.5 / 0.5,
with no contact), so "who trusts whom" has an answer for the whole team; an agent's regard for
its operators (feedback) follows its teammates. Trust and affinity are as of now: the kernel
lets idle relationships fade (`Relationships.maintain_relationships`) before reading them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.social.messaging import OPERATOR_PREFIX
from agent.social.relationships import NEUTRAL, Relationship, Relationships

PairKind = Literal["agent", "operator"]


class PairView(BaseModel):
    """`webops team --json` rows: how `subject` regards `other`."""

    model_config = ConfigDict(frozen=True)

    subject: str
    other: str
    #: "agent" for a teammate, "operator" for a person (`operator:<name>`).
    kind: PairKind
    trust: float = Field(ge=0.0, le=1.0)
    affinity: float = Field(ge=0.0, le=1.0)
    interactions: int = Field(ge=0)
    #: When they last dealt with each other (host clock, seconds); None if never.
    last_contact: float | None


def pair_view(rel: Relationship) -> PairView:
    kind: PairKind = "operator" if rel.other.startswith(OPERATOR_PREFIX) else "agent"
    return PairView(
        subject=rel.subject,
        other=rel.other,
        kind=kind,
        trust=round(rel.trust, 4),
        affinity=round(rel.affinity, 4),
        interactions=rel.interactions,
        last_contact=rel.last_contact if rel.interactions else None,
    )


def team_pairs(relationships: Relationships, agents: Sequence[str]) -> list[PairView]:
    """Every ordered pair of `agents` (neutral where they never met), then each agent's
    operators; by subject, then agents before operators, then name."""
    members = set(agents)
    rows: list[PairView] = []
    for subject in sorted(members):
        known = {r.other: r for r in relationships.of(subject)}
        for other in sorted(members - {subject}):
            rel = known.get(other) or Relationship(subject, other, NEUTRAL, NEUTRAL)
            rows.append(pair_view(rel))
        rows.extend(
            pair_view(r) for r in known.values() if r.other not in members and r.interactions
        )
    return sorted(rows, key=lambda p: (p.subject, p.kind != "agent", p.other))
