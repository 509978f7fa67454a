"""Emotions and mood: bounds under any events, decay to the personality's baseline."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.mind import emotions as em
from agent.mind.mind import Mind
from agent.mind.mood import Mood
from agent.mind.personality import PRESETS, Personality
from tests.conftest import FakeClock

unit = st.floats(min_value=0.0, max_value=1.0)
personalities = st.builds(
    Personality,
    openness=unit,
    conscientiousness=unit,
    extraversion=unit,
    agreeableness=unit,
    neuroticism=unit,
)
events = st.lists(
    st.tuples(
        st.sampled_from(list(em.Appraisal)),
        st.floats(min_value=-2.0, max_value=3.0, allow_nan=False),  # out-of-range on purpose
        st.floats(min_value=0.0, max_value=10_000.0),
    ),
    max_size=60,
)
LABELS = {
    "exuberant",
    "dependent",
    "relaxed",
    "docile",
    "hostile",
    "anxious",
    "disdainful",
    "bored",
    "neutral",
}


def _in_pad(m: Mood) -> bool:
    return all(-1.0 <= v <= 1.0 for v in (m.pleasure, m.arousal, m.dominance))


@settings(max_examples=200)
@given(personalities, events)
def test_emotions_and_mood_stay_in_range(p: Personality, seq: list) -> None:
    clock = FakeClock()
    mind = Mind(p, clock)
    for event, intensity, elapsed in seq:
        clock.advance(elapsed)
        mind.feel(event, intensity)
        assert all(0.0 <= v <= 1.0 for v in mind.emotions)
        mood = mind.mood()
        assert _in_pad(mood) and mood.label in LABELS


@given(personalities, events, st.floats(min_value=0.0, max_value=1e6))
def test_decay_never_overshoots_and_reaches_the_baseline(
    p: Personality, seq: list, wait: float
) -> None:
    clock = FakeClock()
    mind = Mind(p, clock)
    for event, intensity, _ in seq:
        mind.feel(event, intensity)
    before = [abs(e - r) for e, r in zip(mind.emotions, mind.rest, strict=True)]
    clock.advance(wait)
    after = [abs(e - r) for e, r in zip(mind.emotions, mind.rest, strict=True)]
    assert all(a <= b + 1e-12 for a, b in zip(after, before, strict=True))
    clock.advance(100 * max(em.HALF_LIFE_S))
    assert all(abs(e - r) < 1e-9 for e, r in zip(mind.emotions, mind.rest, strict=True))


def test_one_half_life_halves_the_distance() -> None:
    clock = FakeClock()
    mind = Mind(PRESETS["balanced"], clock)
    mind.feel(em.Appraisal.THREAT)
    i = em.INDEX["fear"]
    distance = mind.emotions[i] - mind.rest[i]
    clock.advance(em.HALF_LIFE_S[i])
    assert abs((mind.emotions[i] - mind.rest[i]) - distance / 2) < 1e-9


@given(personalities)
def test_baseline_is_inside_the_unit_interval(p: Personality) -> None:
    assert all(0.0 < v < 0.5 for v in em.baseline(p))


def test_neuroticism_amplifies_negative_and_extraversion_positive_impulses() -> None:
    calm = PRESETS["balanced"].model_copy(update={"neuroticism": 0.1, "extraversion": 0.1})
    nervous = calm.model_copy(update={"neuroticism": 0.9})
    outgoing = calm.model_copy(update={"extraversion": 0.9})
    fear = em.INDEX["fear"]
    joy = em.INDEX["joy"]
    assert (
        em.impulse(em.Appraisal.FAILURE, nervous)[fear]
        > 2 * em.impulse(em.Appraisal.FAILURE, calm)[fear]
    )
    assert (
        em.impulse(em.Appraisal.PRAISE, outgoing)[joy]
        > 2 * em.impulse(em.Appraisal.PRAISE, calm)[joy]
    )


def test_fear_shows_in_the_mood_and_the_modifiers() -> None:
    clock = FakeClock()
    mind = Mind(PRESETS["balanced"], clock)
    calm_mood = mind.mood()
    for _ in range(3):
        mind.feel(em.Appraisal.THREAT)
    scared = mind.modifiers()
    assert scared.risk_tolerance < -0.1 and scared.recheck > 0.1 and scared.confidence < 0
    assert mind.mood().pleasure < calm_mood.pleasure
    assert mind.mood().arousal > calm_mood.arousal


def test_joy_and_trust_raise_confidence_and_anger_impatience() -> None:
    mind = Mind(PRESETS["balanced"], FakeClock())
    mind.feel(em.Appraisal.PRAISE)
    assert mind.modifiers().confidence > 0.05
    mind.feel(em.Appraisal.CONFLICT)
    mind.feel(em.Appraisal.CONFLICT)
    assert mind.modifiers().impatience > 0.1
