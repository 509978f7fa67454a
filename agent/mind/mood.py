"""Mood as pleasure-arousal-dominance (PAD), starting from the personality's temperament.

Temperament from Big Five: Mehrabian, A. (1996), "Pleasure-arousal-dominance: A general framework
for describing and measuring individual differences in temperament", Current Psychology 14(4),
with traits centred to [-1, 1] and neuroticism as the inverse of emotional stability:

    P =  0.21 E + 0.59 A + 0.19 S
    A =  0.15 O + 0.30 A - 0.57 S
    D =  0.25 O + 0.17 C + 0.60 E - 0.32 A
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agent.mind.personality import Personality

PAD = Field(ge=-1.0, le=1.0)

# Mehrabian's octants of PAD space, named by the sign of (P, A, D).
_OCTANTS: dict[tuple[bool, bool, bool], str] = {
    (True, True, True): "exuberant",
    (True, True, False): "dependent",
    (True, False, True): "relaxed",
    (True, False, False): "docile",
    (False, True, True): "hostile",
    (False, True, False): "anxious",
    (False, False, True): "disdainful",
    (False, False, False): "bored",
}

#: Below this distance from the origin a mood is called "neutral" rather than an octant.
NEUTRAL_RADIUS = 0.1


class Mood(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    pleasure: float = PAD
    arousal: float = PAD
    dominance: float = PAD


def _clip(value: float) -> float:
    return max(-1.0, min(1.0, value))


def mood_label(pleasure: float, arousal: float, dominance: float) -> str:
    if (pleasure**2 + arousal**2 + dominance**2) ** 0.5 < NEUTRAL_RADIUS:
        return "neutral"
    return _OCTANTS[(pleasure >= 0, arousal >= 0, dominance >= 0)]


def pad(pleasure: float, arousal: float, dominance: float) -> Mood:
    p, a, d = _clip(pleasure), _clip(arousal), _clip(dominance)
    return Mood(
        label=mood_label(p, a, d), pleasure=round(p, 4), arousal=round(a, 4), dominance=round(d, 4)
    )


def temperament(personality: Personality) -> Mood:
    """The resting mood a personality returns to (Mehrabian 1996)."""
    o, c, e, a = (
        2 * v - 1
        for v in (
            personality.openness,
            personality.conscientiousness,
            personality.extraversion,
            personality.agreeableness,
        )
    )
    stability = 1 - 2 * personality.neuroticism
    return pad(
        0.21 * e + 0.59 * a + 0.19 * stability,
        0.15 * o + 0.30 * a - 0.57 * stability,
        0.25 * o + 0.17 * c + 0.60 * e - 0.32 * a,
    )
