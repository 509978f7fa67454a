"""Big Five personality (OCEAN) with the presets operators pick from.

Each trait is in [0, 1], 0.5 being the population mean. Presets are starting points; any trait
can be overridden when an agent is created.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.errors import InvalidInput

TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")

Trait = Field(ge=0.0, le=1.0)


class Personality(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    openness: float = Trait
    conscientiousness: float = Trait
    extraversion: float = Trait
    agreeableness: float = Trait
    neuroticism: float = Trait

    def as_dict(self) -> dict[str, float]:
        return {trait: getattr(self, trait) for trait in TRAITS}


PRESETS: dict[str, Personality] = {
    # Careful and thorough, easily worried: re-checks, asks before risky actions.
    "cautious": Personality(
        openness=0.3, conscientiousness=0.85, extraversion=0.3, agreeableness=0.6, neuroticism=0.7
    ),
    # Curious, confident and calm: explores, acts quickly, volunteers.
    "bold": Personality(
        openness=0.8, conscientiousness=0.4, extraversion=0.8, agreeableness=0.4, neuroticism=0.2
    ),
    "balanced": Personality(
        openness=0.5, conscientiousness=0.5, extraversion=0.5, agreeableness=0.5, neuroticism=0.5
    ),
    # Warm and talkative, cooperative, fairly steady.
    "friendly": Personality(
        openness=0.6, conscientiousness=0.55, extraversion=0.8, agreeableness=0.9, neuroticism=0.3
    ),
}

DEFAULT_PRESET = "balanced"


def build_personality(
    preset: str | None, overrides: Mapping[str, float | None]
) -> tuple[str, Personality]:
    """Start from a preset and apply trait overrides; return (preset label, personality).

    The label is the preset's name, or "custom" when any trait was overridden.
    """
    name = preset or DEFAULT_PRESET
    if name not in PRESETS:
        raise InvalidInput(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    unknown = set(overrides) - set(TRAITS)
    if unknown:
        raise InvalidInput(f"unknown trait {sorted(unknown)[0]!r}; traits are {', '.join(TRAITS)}")
    given = {trait: value for trait, value in overrides.items() if value is not None}
    try:
        personality = Personality(**(PRESETS[name].as_dict() | given))
    except ValidationError as exc:
        error = exc.errors()[0]
        trait = error["loc"][0]
        raise InvalidInput(f"--{trait} must be between 0 and 1, got {error['input']!r}") from None
    label = name if not given or personality == PRESETS[name] else "custom"
    return label, personality
