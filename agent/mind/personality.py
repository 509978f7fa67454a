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


#: Each effect as intercept + sum(coefficient x (trait - 0.5)), clipped to (low, high).
EFFECTS: dict[str, tuple[float, dict[str, float], float, float]] = {
    "risk_tolerance": (
        0.5,
        {"openness": 0.3, "extraversion": 0.3, "neuroticism": -0.5, "conscientiousness": -0.3},
        0.05,
        0.95,
    ),
    "exploration": (0.25, {"openness": 0.4}, 0.0, 1.0),
    "thoroughness": (0.525, {"conscientiousness": 0.6, "neuroticism": 0.15}, 0.0, 1.0),
    "verbosity": (0.5, {"extraversion": 0.7, "openness": 0.3}, 0.0, 1.0),
    "politeness": (0.65, {"agreeableness": 0.7}, 0.0, 1.0),
}


class TraitEffects(BaseModel):
    """The named effects through which traits change behaviour, each in [0, 1].

    - risk_tolerance: how much risk an option may carry before it loses to a safer one.
      Openness and extraversion raise it, neuroticism and conscientiousness lower it
      (Nicholson et al. 2005, "Personality and domain-specific risk taking").
    - exploration: how often an untried option is chosen over the best known one (openness).
    - thoroughness: the pull toward re-checking before acting (conscientiousness, some worry).
    - verbosity: how much an agent says (extraversion, some openness).
    - politeness: how courteous replies and hand-overs are (agreeableness).

    The coefficients are in `EFFECTS`; `drivers` names the traits that moved each effect most.
    """

    model_config = ConfigDict(frozen=True)

    risk_tolerance: float
    exploration: float
    thoroughness: float
    verbosity: float
    politeness: float

    @classmethod
    def of(cls, p: Personality) -> TraitEffects:
        values = {}
        for effect, (intercept, coefficients, low, high) in EFFECTS.items():
            raw = intercept + sum(c * (getattr(p, t) - 0.5) for t, c in coefficients.items())
            values[effect] = round(max(low, min(high, raw)), 4)
        return cls(**values)

    @staticmethod
    def drivers(p: Personality, effect: str, top: int = 2) -> str:
        """'neuroticism 0.70 lowers it, conscientiousness 0.85 lowers it' for an effect."""
        _, coefficients, _, _ = EFFECTS[effect]
        pushes = sorted(
            ((c * (getattr(p, t) - 0.5), t) for t, c in coefficients.items()),
            key=lambda item: abs(item[0]),
            reverse=True,
        )
        words = [
            f"{trait} {getattr(p, trait):.2f} {'raises' if push > 0 else 'lowers'} it"
            for push, trait in pushes[:top]
            if abs(push) >= 0.01
        ]
        return ", ".join(words) or "traits near average"
