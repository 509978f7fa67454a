"""Plutchik's eight emotions: appraisal of events, decay toward a baseline, and mood.

Pure functions over tuples of eight floats in `EMOTIONS` order; the clock is an argument.
(Plain tuples, not numpy: for eight numbers they are faster, and `webops status` starts sooner
without importing numpy.)

- Appraisal: each kind of event gives a fixed impulse (OCC-style appraisal, Ortony, Clore &
  Collins 1988, reduced to the events an operations agent meets). Personality scales it:
  neuroticism amplifies negative emotions, extraversion positive ones (Costa & McCrae 1980).
  Impulses saturate (`e + i(1 - e)` upward, `e + i e` downward) so values stay in [0, 1].
- Decay: exponential toward a baseline that comes from the personality, with a half-life per
  emotion (surprise fades fastest, sadness slowest).
- Mood: the temperament PAD point (Mehrabian 1996, see `agent.mind.mood`) moved by each emotion's
  distance from its baseline times that emotion's PAD direction. PAD directions are the ALMA
  model's values (Gebhard 2005, after Mehrabian 1980) for the nearest OCC emotion: joy -> Joy,
  trust -> Gratitude, fear -> Fear, sadness -> Distress, anger -> Anger, anticipation -> Hope;
  surprise and disgust, which OCC lacks, from Russell & Mehrabian (1977).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from agent.mind.mood import Mood, pad, temperament
from agent.mind.personality import Personality

Vector = tuple[float, ...]

EMOTIONS = ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation")
INDEX = {name: i for i, name in enumerate(EMOTIONS)}
POSITIVE = frozenset(INDEX[name] for name in ("joy", "trust", "anticipation"))
NEGATIVE = frozenset(INDEX[name] for name in ("fear", "sadness", "disgust", "anger"))


class Appraisal(StrEnum):
    """Events an agent appraises."""

    SUCCESS = "success"
    FAILURE = "failure"
    UNEXPECTED = "unexpected"
    THREAT = "threat"
    PRAISE = "praise"
    CRITICISM = "criticism"
    CONFLICT = "conflict"


def _vector(**values: float) -> Vector:
    return tuple(float(values.get(name, 0.0)) for name in EMOTIONS)


def _clip01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


IMPULSES: dict[Appraisal, Vector] = {
    Appraisal.SUCCESS: _vector(joy=0.3, trust=0.15, anticipation=0.1, fear=-0.2, sadness=-0.15),
    Appraisal.FAILURE: _vector(
        sadness=0.25, fear=0.3, anger=0.15, surprise=0.1, joy=-0.2, trust=-0.1
    ),
    Appraisal.UNEXPECTED: _vector(surprise=0.5, fear=0.1, anticipation=0.15),
    Appraisal.THREAT: _vector(fear=0.45, anticipation=0.3, surprise=0.15, joy=-0.1),
    Appraisal.PRAISE: _vector(joy=0.4, trust=0.3, sadness=-0.15),
    Appraisal.CRITICISM: _vector(sadness=0.25, anger=0.2, trust=-0.15, joy=-0.15),
    Appraisal.CONFLICT: _vector(anger=0.35, disgust=0.15, trust=-0.2, fear=0.05),
}

#: Half-life of each emotion's distance from its baseline, in seconds.
HALF_LIFE_S = _vector(
    joy=180,
    trust=600,
    fear=240,
    surprise=30,
    sadness=600,
    disgust=300,
    anger=180,
    anticipation=120,
)

#: PAD direction of each emotion (see the module docstring for the sources).
PAD_OF: tuple[tuple[float, float, float], ...] = (
    (0.40, 0.20, 0.10),  # joy (ALMA Joy)
    (0.40, 0.20, -0.30),  # trust (ALMA Gratitude)
    (-0.64, 0.60, -0.43),  # fear (ALMA Fear)
    (0.40, 0.67, -0.13),  # surprise (Russell & Mehrabian 1977)
    (-0.40, -0.20, -0.50),  # sadness (ALMA Distress)
    (-0.60, 0.35, 0.11),  # disgust (Russell & Mehrabian 1977)
    (-0.51, 0.59, 0.25),  # anger (ALMA Anger)
    (0.20, 0.20, -0.10),  # anticipation (ALMA Hope)
)


def baseline(p: Personality) -> Vector:
    """The resting level of each emotion for a personality; every value in [0.02, 0.45]."""
    o, c, e, a, n = (
        p.openness,
        p.conscientiousness,
        p.extraversion,
        p.agreeableness,
        p.neuroticism,
    )
    return (
        0.10 + 0.15 * e + 0.08 * a - 0.06 * n,  # joy
        0.08 + 0.20 * a + 0.05 * c,  # trust
        0.04 + 0.22 * n,  # fear
        0.03 + 0.06 * o,  # surprise
        0.03 + 0.12 * n - 0.02 * e,  # sadness
        0.02 + 0.06 * (1 - a),  # disgust
        0.02 + 0.08 * n + 0.06 * (1 - a),  # anger
        0.06 + 0.18 * o,  # anticipation
    )


def impulse(event: Appraisal, p: Personality, intensity: float = 1.0) -> Vector:
    """The change an event pushes, scaled by personality and by the event's intensity in [0,1]."""
    negative = 0.5 + p.neuroticism  # 0.5x for a calm agent, 1.5x for a nervous one
    positive = 0.5 + p.extraversion
    k = _clip01(intensity)
    return tuple(
        v * k * (negative if i in NEGATIVE else positive if i in POSITIVE else 1.0)
        for i, v in enumerate(IMPULSES[event])
    )


def apply_impulse(emotions: Vector, push: Vector) -> Vector:
    """Saturating update: pushes up approach 1, pushes down approach 0; never leaves [0, 1]."""
    out = []
    for e, i in zip(emotions, push, strict=True):
        i = -1.0 if i < -1.0 else 1.0 if i > 1.0 else i
        out.append(_clip01(e + i * (1.0 - e) if i >= 0 else e + i * e))
    return tuple(out)


def decay(emotions: Vector, rest: Vector, elapsed_s: float) -> Vector:
    """Exponential decay of each emotion toward its baseline over `elapsed_s` seconds."""
    if elapsed_s <= 0:
        return emotions
    return tuple(
        _clip01(r + (e - r) * math.exp2(-elapsed_s / h))
        for e, r, h in zip(emotions, rest, HALF_LIFE_S, strict=True)
    )


def mood(emotions: Vector, p: Personality, rest: Vector | None = None) -> Mood:
    """Mood now: temperament moved by how far each emotion is from its resting level."""
    rest = baseline(p) if rest is None else rest
    base = temperament(p)
    p_, a_, d_ = base.pleasure, base.arousal, base.dominance
    for e, r, (dp, da, dd) in zip(emotions, rest, PAD_OF, strict=True):
        delta = e - r
        p_ += delta * dp
        a_ += delta * da
        d_ += delta * dd
    return pad(p_, a_, d_)


def as_dict(emotions: Vector) -> dict[str, float]:
    return {name: round(float(v), 4) for name, v in zip(EMOTIONS, emotions, strict=True)}


def from_dict(values: dict[str, float], default: Vector) -> Vector:
    return tuple(
        _clip01(float(values[name])) if name in values else d
        for name, d in zip(EMOTIONS, default, strict=True)
    )


@dataclass(frozen=True)
class EmotionModifiers:
    """How emotions bend behaviour right now; every field is 0 for an agent at rest.

    fear lowers risk tolerance and raises re-checking; joy and trust raise confidence (fear and
    sadness lower it); anger shortens patience (waiting and re-checking cost more).
    """

    risk_tolerance: float
    recheck: float
    confidence: float
    impatience: float

    @classmethod
    def of(cls, emotions: Vector, rest: Vector) -> EmotionModifiers:
        g = {name: e - r for name, e, r in zip(EMOTIONS, emotions, rest, strict=True)}
        return cls(
            risk_tolerance=-0.6 * g["fear"] + 0.15 * g["joy"] - 0.1 * g["sadness"],
            recheck=0.7 * g["fear"] + 0.3 * g["surprise"] - 0.3 * max(0.0, g["anger"]),
            confidence=0.35 * g["joy"] + 0.35 * g["trust"] - 0.3 * g["fear"] - 0.2 * g["sadness"],
            impatience=max(0.0, g["anger"]),
        )
