"""Personality and temperament: bounds hold for any input, presets mean what they say."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.errors import InvalidInput
from agent.mind.mood import Mood, temperament
from agent.mind.personality import PRESETS, TRAITS, Personality, build_personality

any_float = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))
unit = st.floats(min_value=0.0, max_value=1.0)


@given(st.sampled_from([*PRESETS, None]), st.fixed_dictionaries({t: any_float for t in TRAITS}))
def test_build_personality_accepts_only_unit_traits(
    preset: str | None, overrides: dict[str, float | None]
) -> None:
    try:
        label, personality = build_personality(preset, overrides)
    except InvalidInput as exc:
        assert "must be between 0 and 1" in exc.message
        bad = [v for v in overrides.values() if v is not None and not 0.0 <= v <= 1.0]
        assert bad  # refused only when a trait really was out of range (or NaN)
        return
    for value in personality.as_dict().values():
        assert 0.0 <= value <= 1.0
    assert label in {*PRESETS, "custom"}


@given(*(unit for _ in TRAITS))
def test_temperament_stays_in_pad_space(o: float, c: float, e: float, a: float, n: float) -> None:
    mood = temperament(
        Personality(openness=o, conscientiousness=c, extraversion=e, agreeableness=a, neuroticism=n)
    )
    assert isinstance(mood, Mood)
    for value in (mood.pleasure, mood.arousal, mood.dominance):
        assert -1.0 <= value <= 1.0


def test_neuroticism_lowers_pleasure_and_raises_arousal() -> None:
    calm = temperament(PRESETS["balanced"].model_copy(update={"neuroticism": 0.1}))
    nervous = temperament(PRESETS["balanced"].model_copy(update={"neuroticism": 0.9}))
    assert nervous.pleasure < calm.pleasure
    assert nervous.arousal > calm.arousal


def test_unknown_preset_names_the_choices() -> None:
    with pytest.raises(InvalidInput, match="cautious, bold, balanced, friendly"):
        build_personality("reckless", {})
