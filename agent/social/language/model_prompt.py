"""The system prompt that gives a language model the agent's voice: its Big Five traits, its
strongest emotions and its mood (PAD, Mehrabian 1996), through the same `Style` the offline
generator uses, so that personality and mood shape the model's wording as they shape the
catalogue's.
"""

from __future__ import annotations

from agent.social.language.generate import Style

LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French"}

_LENGTH = {
    "terse": "Be terse: one short sentence.",
    "plain": "Answer in one to three sentences.",
    "chatty": "You are talkative: up to four sentences, warmly.",
}
_REGISTER = {
    "formal": "Be formal and courteous (no contractions; Sie in German, vous in French).",
    "casual": "Be casual and friendly (du in German, tu in French).",
}
_TONE = {
    "hedge": "You are anxious right now: hedge what you are unsure of.",
    "sure": "You feel confident right now: sound sure.",
    "plain": "Keep a neutral tone.",
}


def persona(
    name: str, traits: dict[str, float], emotions: dict[str, float], style: Style, top: int = 3
) -> str:
    """Who is speaking and how: the first lines of every system prompt."""
    shown_traits = ", ".join(f"{trait} {value:.2f}" for trait, value in traits.items())
    strongest = sorted(emotions.items(), key=lambda item: -item[1])[:top]
    shown_emotions = ", ".join(f"{emotion} {value:.2f}" for emotion, value in strongest)
    language = LANGUAGE_NAMES.get(style.lang, "English")
    return "\n".join(
        [
            f"You are {name}, a web-operations agent in a team that watches services, runs "
            "runbooks and handles incidents. You speak to a human operator.",
            f"Your personality (Big Five, 0..1): {shown_traits}.",
            f"Your strongest emotions now (0..1): {shown_emotions}. Your mood: "
            f"{style.mood_label} (pleasure {style.pleasure:+.2f}, arousal {style.arousal:+.2f}, "
            f"dominance {style.dominance:+.2f}).",
            f"{_LENGTH[style.length]} {_REGISTER[style.register]} {_TONE[style.tone]}",
            f"Write every sentence for the operator in {language}.",
        ]
    )
