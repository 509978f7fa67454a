"""Skills: what an agent can do, and how well, from practice.

Proficiency follows the power law of practice (Newell & Rosenbloom 1981): each successful,
timely run helps less than the one before.

    proficiency(n) = 1 - (1 - p0) * (1 + n) ** -rate,   rate = 0.35 + 0.2 * openness

where n counts successful runs (a slow success - over half its time budget - counts half),
p0 = 0.1 when a skill is learned. Levels are bands of proficiency. Proficiency matters: it
feeds a decision's confidence, who is best placed to handle an incident, and earned autonomy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from agent.errors import NotFound

P0 = 0.1
LEVELS: tuple[tuple[float, str], ...] = (
    (0.93, "master"),
    (0.8, "expert"),
    (0.6, "proficient"),
    (0.3, "competent"),
    (0.0, "novice"),
)


def level_of(proficiency: float) -> str:
    return next(name for bound, name in LEVELS if proficiency >= bound)


def learning_rate(openness: float) -> float:
    return 0.35 + 0.2 * openness


def proficiency_after(practice: float, openness: float) -> float:
    return float(1.0 - (1.0 - P0) * (1.0 + practice) ** -learning_rate(openness))


class SkillDefinition(BaseModel):
    """A skill an agent can learn: its name and what it is for."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str


BUILT_IN: tuple[SkillDefinition, ...] = (
    SkillDefinition(name="http_check", description="check a web endpoint's status, body, JSON"),
    SkillDefinition(name="tcp_check", description="check that a port accepts connections"),
    SkillDefinition(name="dns_check", description="check that a name resolves"),
    SkillDefinition(name="tls_check", description="check a certificate's days left"),
    SkillDefinition(name="run_runbook", description="run an operator-defined remedy"),
)


class SkillRegistry:
    """The skills that exist (built in, or registered by an operator's definition)."""

    def __init__(self) -> None:
        self._skills = {s.name: s for s in BUILT_IN}

    def register_skill(self, definition: SkillDefinition) -> None:
        self._skills[definition.name] = definition

    def get_skill(self, name: str) -> SkillDefinition:
        try:
            return self._skills[name]
        except KeyError:
            known = ", ".join(sorted(self._skills))
            raise NotFound(f"no skill named {name!r}; known skills: {known}") from None

    def names(self) -> list[str]:
        return sorted(self._skills)


@dataclass
class SkillState:
    """One agent's experience with one skill."""

    name: str
    practice: float = 0.0
    practice_count: int = 0
    successes: int = 0
    failures: int = 0
    learned_at: float = 0.0
    last_practiced_at: float | None = None
    proficiency: float = P0
    dirty: bool = field(default=True, compare=False)

    @property
    def level(self) -> str:
        return level_of(self.proficiency)


class SkillView(BaseModel):
    """`webops skills --json` rows."""

    name: str
    proficiency: float
    level: str
    practice_count: int
    successes: int
    failures: int
    autonomous: bool
    why: str


class SkillFields(Protocol):
    """A stored skill: the ORM's `SkillRow` or the light reader's `StoredSkill`."""

    @property
    def name(self) -> str: ...
    @property
    def proficiency(self) -> float: ...
    @property
    def practice_count(self) -> int: ...
    @property
    def successes(self) -> int: ...
    @property
    def failures(self) -> int: ...
    @property
    def learned_at(self) -> float: ...
    @property
    def last_practiced_at(self) -> float | None: ...


class SkillBook:
    """An agent's skills: learn, practise, and the proficiency that comes of it."""

    def __init__(self, registry: SkillRegistry, openness: float) -> None:
        self.registry = registry
        self.openness = openness
        self.skills: dict[str, SkillState] = {}

    def restore(self, rows: Iterable[SkillFields]) -> SkillBook:
        """Take the stored skills in, as written (nothing left dirty)."""
        for r in rows:
            self.skills[r.name] = SkillState(
                name=r.name,
                practice_count=r.practice_count,
                successes=r.successes,
                failures=r.failures,
                learned_at=r.learned_at,
                last_practiced_at=r.last_practiced_at,
                proficiency=r.proficiency,
                dirty=False,
            )
            self.update_proficiency(r.name, r.proficiency, r.learned_at)
            self.skills[r.name].dirty = False
        return self

    def learn_skill(self, name: str, now: float) -> SkillState:
        """Start a skill from its definition (at novice level); learning twice is a no-op."""
        self.registry.get_skill(name)
        if name not in self.skills:
            self.skills[name] = SkillState(name=name, learned_at=now)
        return self.skills[name]

    def practice_skill(self, name: str, ok: bool, timely: bool, now: float) -> SkillState:
        """Count one use: a success moves proficiency up the curve, a failure does not."""
        state = self.learn_skill(name, now)
        state.practice_count += 1
        state.last_practiced_at = now
        if ok:
            state.successes += 1
            state.practice += 1.0 if timely else 0.5
        else:
            state.failures += 1
        state.proficiency = round(proficiency_after(state.practice, self.openness), 4)
        state.dirty = True
        return state

    def update_proficiency(self, name: str, proficiency: float, now: float) -> SkillState:
        """Set proficiency directly (an operator's assessment); practice is re-derived."""
        state = self.learn_skill(name, now)
        target = min(0.999, max(P0, proficiency))
        rate = learning_rate(self.openness)
        state.practice = ((1.0 - P0) / (1.0 - target)) ** (1.0 / rate) - 1.0
        state.proficiency = round(proficiency_after(state.practice, self.openness), 4)
        state.dirty = True
        return state

    def proficiency(self, name: str | None) -> float:
        if name is None or name not in self.skills:
            return P0 if name else 0.5
        return self.skills[name].proficiency
