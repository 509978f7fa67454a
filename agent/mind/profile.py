"""What the kernel tells the shells about an agent: one pydantic model for tables and JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from agent.errors import InvalidInput
from agent.mind.drift import Drift, current
from agent.mind.mind import Mind
from agent.mind.mood import Mood, temperament
from agent.mind.personality import Personality


class AgentFields(Protocol):
    """An agent as stored: the ORM's `AgentRow`, or the light reader's `StoredAgent` (read
    commands skip the ORM's import), so each rule below has one implementation for both."""

    @property
    def name(self) -> str: ...
    @property
    def preset(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def openness(self) -> float: ...
    @property
    def conscientiousness(self) -> float: ...
    @property
    def extraversion(self) -> float: ...
    @property
    def agreeableness(self) -> float: ...
    @property
    def neuroticism(self) -> float: ...
    @property
    def created_at(self) -> float: ...
    @property
    def emotions(self) -> str: ...
    @property
    def emotions_at(self) -> float: ...
    @property
    def drift(self) -> str: ...


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
    def from_row(cls, row: AgentFields, mood: Mood | None = None) -> AgentProfile:
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


def drift_of(row: AgentFields) -> Drift:
    """How far experience moved the agent's traits ('{}', as migration 12 left it: none)."""
    return Drift.model_validate_json(row.drift or "{}")


def personality_of(row: AgentFields) -> Personality:
    """The base traits, as the agent was created (see `drift_of` for what experience added)."""
    return Personality(
        openness=row.openness,
        conscientiousness=row.conscientiousness,
        extraversion=row.extraversion,
        agreeableness=row.agreeableness,
        neuroticism=row.neuroticism,
    )


def stored_mind(row: AgentFields, clock: Callable[[], float], *, adaptive: bool) -> Mind:
    """The agent's mind as stored: base traits, their drift, its last emotions (decayed to
    `clock()` as the mind reads them)."""
    return Mind(
        personality_of(row),
        clock,
        json.loads(row.emotions),
        row.emotions_at,
        drift_of(row),
        adaptive=adaptive,
    )


def stored_profile(row: AgentFields, clock: Callable[[], float], *, adaptive: bool) -> AgentProfile:
    """An agent that no process here has loaded, with its mood as of now."""
    return AgentProfile.from_row(row, stored_mind(row, clock, adaptive=adaptive).mood())
