"""Replies in an agent's own voice: personality and mood pick the words, the catalogue the language.

A reply is built from catalogue entries only (see `agent.social.language.catalog`), by these rules:

- Length, from verbosity (extraversion, some openness): terse (verbosity < 0.4) says the core
  sentence only; chatty (>= 0.65) adds a follow-up sentence; everyone who is not terse opens with
  a short first phrase.
- Register, from politeness (agreeableness): formal (politeness >= 0.75) opens with a courteous
  phrase ("Certainly.") and uses the formal variants, which avoid contractions (and say Sie /
  vous); casual otherwise, with a warm opener ("Alright!") and du / tu. Bad news and questions
  get their own openers ("Uh-oh.", "Excuse me."); greetings and thanks get none.
- Tone, from the mood (PAD, Mehrabian 1996): an anxious mood (label "anxious", or pleasure
  < -0.15 with arousal > 0.2) hedges the core sentence ("I think ...", "I'm not entirely sure,
  but ..."); a joyful or confident one (pleasure > 0.2 and dominance > 0.1, or label exuberant
  or relaxed) sounds sure ("Done — ..." after an action, "No doubt: ..." otherwise). Hedging wins
  when both hold. Tone belongs to the core sentence, so a terse agent hedges too; questions,
  help, greetings and thanks are never coloured, and what the agent itself has just made true
  (an approval, a denial, a hand-over) is never hedged.
- Choice: equivalent variants are picked with random.Random(f"{seed}:{key}"), one draw per slot,
  so the same (meaning, style, seed) always gives the same reply, and changing the style does
  not reshuffle which variant of a sentence is used.

Values of a few kinds (`mood`, `emotion`, `state`, `level`) are themselves translated when the
catalogue knows them ("anxious" -> "ängstlich"); other values are used as given.
"""

from __future__ import annotations

import random
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.errors import InvalidInput, OperationFailed
from agent.mind.mood import Mood
from agent.mind.personality import TraitEffects
from agent.social.language.catalog import Translator, fill, normalise_language, translator

TERSE_BELOW = 0.4
CHATTY_FROM = 0.65
FORMAL_FROM = 0.75

#: Every reply key and the params its sentences use (all must be given; extras are ignored).
REPLY_PARAMS: dict[str, tuple[str, ...]] = {
    "feeling": ("mood", "emotion", "value"),
    "status": ("state", "mood", "count", "summary"),
    "check_ok": ("target", "latency"),
    "check_failed": ("target", "detail"),
    "ran_ok": ("runbook", "target"),
    "ran_failed": ("runbook", "target", "detail"),
    "awaiting_approval": ("runbook", "target", "id"),
    "explain": ("summary",),
    "recall_none": ("topic",),
    "recall_some": ("topic", "count", "summary"),
    "knowledge_none": ("topic",),
    "knowledge_some": ("topic", "count", "summary"),
    "learned_skill": ("skill", "target", "runs", "ok", "before", "after", "level"),
    "practice_none": ("skill", "proficiency"),
    "practice_mastered": ("skill", "proficiency"),
    "thanks_feedback": (),
    "sorry_feedback": (),
    "approved": ("id", "action", "detail"),
    "denied": ("id", "action"),
    "handed_over": ("agent",),
    "help": ("targets",),
    "smalltalk": ("operator",),
    "clarify": ("question",),
}
REPLY_KEYS = tuple(REPLY_PARAMS)

# Which opener goes with which news; None = no opener (the core already is one).
_OPENERS: dict[str, str | None] = {
    "check_failed": "bad",
    "ran_failed": "bad",
    "practice_none": "bad",
    "clarify": "ask",
    "smalltalk": None,
    "thanks_feedback": None,
    "sorry_feedback": None,
}
# Statements a mood may colour, and how a sure agent colours each ("done" after an action).
_UNCOLOURED = frozenset({"clarify", "help", "smalltalk", "thanks_feedback", "sorry_feedback"})
_DONE = frozenset({"ran_ok", "learned_skill", "approved", "denied", "handed_over"})
_UNHEDGED = frozenset({"approved", "denied", "handed_over"})
# Params whose values are words the catalogue translates: param -> msgid prefix.
_TRANSLATED_VALUES = {"mood": "mood", "emotion": "emotion", "state": "state", "level": "level"}

Register = Literal["casual", "formal"]
Tone = Literal["hedge", "sure", "plain"]
Length = Literal["terse", "plain", "chatty"]


class ReplyMeaning(BaseModel):
    """What to say: a reply key and its already-formatted values."""

    model_config = ConfigDict(frozen=True)

    key: str
    params: dict[str, str] = Field(default_factory=dict)


class Style(BaseModel):
    """How to say it: the voice that personality and mood give an agent right now."""

    model_config = ConfigDict(frozen=True)

    verbosity: float = Field(ge=0.0, le=1.0)
    politeness: float = Field(ge=0.0, le=1.0)
    mood_label: str
    pleasure: float = Field(ge=-1.0, le=1.0)
    arousal: float = Field(ge=-1.0, le=1.0)
    dominance: float = Field(ge=-1.0, le=1.0)
    lang: str = "en"

    @classmethod
    def of(cls, effects: TraitEffects, mood: Mood, lang: str = "en") -> Style:
        """The style of an agent with these trait effects in this mood (InvalidInput on `lang`)."""
        return cls(
            verbosity=effects.verbosity,
            politeness=effects.politeness,
            mood_label=mood.label,
            pleasure=mood.pleasure,
            arousal=mood.arousal,
            dominance=mood.dominance,
            lang=normalise_language(lang),
        )

    @property
    def register(self) -> Register:
        return "formal" if self.politeness >= FORMAL_FROM else "casual"

    @property
    def length(self) -> Length:
        if self.verbosity < TERSE_BELOW:
            return "terse"
        return "chatty" if self.verbosity >= CHATTY_FROM else "plain"

    @property
    def tone(self) -> Tone:
        if self.mood_label == "anxious" or (self.pleasure < -0.15 and self.arousal > 0.2):
            return "hedge"
        if self.mood_label in ("exuberant", "relaxed") or (
            self.pleasure > 0.2 and self.dominance > 0.1
        ):
            return "sure"
        return "plain"


def _pick(tr: Translator, stems: tuple[str, ...], draw: float) -> str | None:
    """The template of one variant of the first stem that has any, chosen by `draw` in [0, 1)."""
    for stem in stems:
        ids = tr.variants(stem)
        if ids:
            return tr.template(ids[int(draw * len(ids))])
    return None


def _lower_first(template: str, tr: Translator) -> str:
    """Lower a sentence's first letter so it can follow a prefix, unless it must stay capital."""
    if not template or template[0] == "{":
        return template  # starts with a value (a name): leave it as given
    first = template.split(" ", 1)[0].rstrip(",.;:!?")
    if first in tr.template("grammar.keep_capital").split():
        return template
    return template[0].lower() + template[1:]


def _closed(sentence: str) -> str:
    """End a sentence with a full stop when a value left it open ("...: 3 skills" + ".")."""
    sentence = re.sub(r"\s+", " ", sentence).strip()
    return sentence if not sentence or sentence[-1] in ".!?…" else sentence + "."


def _tidy(text: str) -> str:
    """Collapse doubled sentence ends that a value ending in '.' leaves ("down.." -> "down.")."""
    return re.sub(r"(?<!\.)([.!?])\.(?!\.)", r"\1", text)


def generate(meaning: ReplyMeaning, style: Style, seed: int = 0) -> str:
    """The reply for `meaning` in `style`; InvalidInput for an unknown key or missing params."""
    key = meaning.key
    if key not in REPLY_PARAMS:
        raise InvalidInput(f"unknown reply key {key!r}; known keys: {', '.join(REPLY_KEYS)}")
    missing = [name for name in REPLY_PARAMS[key] if name not in meaning.params]
    if missing:
        raise InvalidInput(f"reply {key!r} needs {', '.join(missing)}")
    tr = translator(style.lang)
    rng = random.Random(f"{seed}:{key}")
    draw_opener, draw_core, draw_tone, draw_more = (rng.random() for _ in range(4))
    formal = style.register == "formal"

    core_stems = (f"reply.{key}.formal", f"reply.{key}.core") if formal else (f"reply.{key}.core",)
    core = _pick(tr, core_stems, draw_core)
    if core is None:
        raise OperationFailed(f"the {tr.lang!r} catalogue has no sentence for reply {key!r}")
    tone = style.tone
    if tone == "hedge" and key in _UNHEDGED:
        tone = "plain"
    if key not in _UNCOLOURED and tone != "plain":
        kind = "hedge" if tone == "hedge" else "done" if key in _DONE else "sure"
        wrapper = _pick(tr, (f"tone.{kind}.{style.register}",), draw_tone)
        if wrapper is not None:
            core = wrapper.replace("{core}", _lower_first(core, tr))

    parts = [core]
    opener_group = _OPENERS.get(key, "good")
    if style.length != "terse" and opener_group is not None:
        opener = _pick(tr, (f"opener.{opener_group}.{style.register}",), draw_opener)
        parts[:0] = [opener] if opener else []
    if style.length == "chatty":
        more_stems = (f"reply.{key}.more_formal",) if formal else ()
        more = _pick(tr, (*more_stems, f"reply.{key}.more"), draw_more)
        parts += [more] if more else []

    values: dict[str, object] = {}
    for name, value in meaning.params.items():
        prefix = _TRANSLATED_VALUES.get(name)
        values[name] = (
            tr.translate(f"{prefix}.{value}") if prefix and tr.has(f"{prefix}.{value}") else value
        )
    return _tidy(" ".join(_closed(fill(part, values)) for part in parts))
