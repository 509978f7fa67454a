"""What the kernel tells the shells about an agent: one pydantic model for tables and JSON."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from agent.errors import InvalidInput
from agent.mind.drift import Drift, current
from agent.mind.mood import Mood, temperament
from agent.mind.personality import Personality
from storage.tables import AgentRow

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")


def check_agent_name(name: str) -> str:
    """Names are used in commands, chat and URLs: a letter, then letters, digits, - or _."""
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInput(
            f"invalid agent name {name!r}: use 1-32 letters, digits, '-' or '_', "
            "starting with a letter"
        )
    return name


class AgentProfile(BaseModel):
    """The CLI's `agent list/show` JSON shape and the roster's row."""

    model_config = ConfigDict(frozen=True)

    name: str
    preset: str
    state: str
    #: The current traits: the base ones plus what experience added (`drift`).
    personality: Personality
    #: How far experience moved each trait from its base (`webops status` says why).
    drift: dict[str, float]
    mood: Mood
    created_at: datetime

    @classmethod
    def from_row(cls, row: AgentRow, mood: Mood | None = None) -> AgentProfile:
        """`personality` is the current one: the base traits plus their drift."""
        drift = drift_of(row)
        personality = current(personality_of(row), drift)
        return cls(
            name=row.name,
            preset=row.preset,
            state=row.state,
            personality=personality,
            drift=drift.as_dict(),
            mood=mood or temperament(personality),
            created_at=datetime.fromtimestamp(row.created_at, UTC),
        )


def drift_of(row: AgentRow) -> Drift:
    """How far experience moved the agent's traits ('{}', as migration 12 left it: none)."""
    return Drift.model_validate_json(row.drift or "{}")


def personality_of(row: AgentRow) -> Personality:
    """The base traits, as the agent was created (see `drift_of` for what experience added)."""
    return Personality(
        openness=row.openness,
        conscientiousness=row.conscientiousness,
        extraversion=row.extraversion,
        agreeableness=row.agreeableness,
        neuroticism=row.neuroticism,
    )
