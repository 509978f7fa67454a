"""Offline understanding of an operator's message: intent and entities by rules and scores.

No model is downloaded; the steps are small enough to read and test:

1. Normalise: cut the text to `MAX_CHARS`, take out the first URL whole, lowercase, drop
   apostrophes ("what's" -> "whats") and punctuation, but keep names such as `restart-api`,
   `dns_check` or `127.0.0.1` as one token.
2. Entities: fuzzy-match the names the context knows (runbooks, skills, teammates, targets, in
   that order; a matched span is used up). A name matches a run of one to (parts + 1) words,
   compared without separators, so "restart api", "restart_api" and "restartapi" all find
   `restart-api`. difflib's ratio must reach 0.75 (0.8 for names of four letters or fewer, where
   one wrong letter is a quarter of the name) and the lengths may differ by at most a quarter,
   so "restart" alone is not `restart-api`; a swap of two neighbouring letters counts as a
   near-exact match. A word that only equals one part of a longer name, or matches it loosely,
   is kept as a "did you mean" suggestion, never as the entity.
3. Intent: phrases ("how are you", "good job") and keywords score for their intent; a keyword
   also matches with a typo (difflib ratio >= 0.8 for words of four letters or more, or one
   swapped pair: "chek", "stauts", "feelin"). Word order does not matter. Entities add evidence
   (a URL or a target for check, a runbook for run_runbook, a teammate for handover). Questions
   ("why did you run ...", "did you ...") damp the action intents so asking about an action
   never reads as ordering it.
4. Decide: the best score wins; confidence grows with the score and its margin over the runner
   up. Below `MIN_SCORE` the message is unclear.
5. Safety: run_runbook needs exactly one confidently matched runbook (and at most one target),
   approve/deny an id (or exactly one pending approval), learn_skill a known skill, handover a
   known teammate, check a target or URL. Otherwise the intent is kept, the missing entity is
   not guessed, confidence drops below 0.5 and `clarify` holds a question (in `Context.lang`).

Only English is understood; clarifying questions come from the message catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from agent.social.language.catalog import Translator, translator
from agent.social.language.matching import (
    KEYWORD_RATIO,
    FoundNames,
    find_names,
    same_word,
    swapped,
)
from agent.social.language.vocabulary import (
    ACTIONS,
    ADDRESS_BONUS,
    AGENT_BONUS,
    AGENT_CUES,
    BAD_WORDS,
    GOOD_WORDS,
    HEALTH_WEIGHT,
    HEALTH_WORDS,
    KEYWORDS,
    NEGATORS,
    PHRASES,
    PRIORITY,
    QUESTION_DAMPING,
    QUESTION_STARTS,
    RUNBOOK_BONUS,
    RUNBOOK_HINT_BONUS,
    SKILL_BONUS,
    STOPWORDS,
    TARGET_BONUS,
    THUMB_BONUS,
    TOPIC_MARKERS,
    URL_BONUS,
    VETOES,
    Intent,
)

__all__ = ["Context", "Intent", "Meaning", "understand"]

MAX_CHARS = 1000
MAX_TOKENS = 60
MIN_SCORE = 0.45
CLARIFY_CONFIDENCE = 0.45


class Context(BaseModel):
    """What the agent knows of its world: the only names an entity can take."""

    model_config = ConfigDict(frozen=True)

    targets: list[str] = Field(default_factory=list)
    runbooks: list[str] = Field(default_factory=list)
    agents: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    pending_approvals: list[int] = Field(default_factory=list)
    last_topic: str | None = None
    lang: str = "en"  # the language of clarifying questions, not of the operator's text


class Meaning(BaseModel):
    """The understood message; `clarify` is set when the agent must ask before acting."""

    model_config = ConfigDict(frozen=True)

    intent: Intent
    entities: dict[str, str] = Field(default_factory=dict)
    confidence: float = Field(ge=0.0, le=1.0)
    clarify: str | None = None


_URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_TOKEN = re.compile(r"\w+(?:[-.]\w+)*")
_NUMBER = re.compile(r"[0-9]{1,9}")
_GLUED_NUMBER = re.compile(r"([^\W\d_]+)([0-9]{1,9})")


@lru_cache(maxsize=4096)
def _keyword(token: str) -> tuple[tuple[Intent, float], ...]:
    """The intents a word is a keyword of, with weight; typos match at a discount."""
    exact = tuple((intent, words[token]) for intent, words in KEYWORDS.items() if token in words)
    if exact or len(token) < 4 or not token.isalpha():
        return exact
    best: tuple[float, Intent, float] | None = None
    for intent, words in KEYWORDS.items():
        for word, weight in words.items():
            if len(word) < 4 or abs(len(word) - len(token)) > 2:
                continue
            ratio = 0.92 if swapped(token, word) else SequenceMatcher(None, token, word).ratio()
            if ratio >= KEYWORD_RATIO and (best is None or ratio > best[0]):
                best = (ratio, intent, weight)
    return ((best[1], best[2] * 0.85),) if best else ()


def _tokenise(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"'s\b", "", text).replace("'", "")
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        glued = _GLUED_NUMBER.fullmatch(token)
        if glued and glued.group(1) in KEYWORDS[Intent.APPROVE] | KEYWORDS[Intent.DENY]:
            tokens += [glued.group(1), glued.group(2)]  # "deny3"
        else:
            tokens.append(token.strip("_") or token)
    return tokens[:MAX_TOKENS]


def _vetoed(tokens: Sequence[str], i: int) -> bool:
    """Whether tokens[i] is negated: "don't run", "do not run", "never the restart-api", but
    not "don't worry, run"."""
    before = tokens[max(0, i - 2) : i]
    return bool(before) and (
        before[-1] in VETOES
        or (len(before) == 2 and before[0] in VETOES and before[1] in STOPWORDS)
    )


def _sentiment(tokens: Sequence[str], raw: str) -> int:
    """Positive for praise, negative for blame; "not good" flips, emoji thumbs count."""
    total = raw.count("\N{THUMBS UP SIGN}") - raw.count("\N{THUMBS DOWN SIGN}")
    for i, token in enumerate(tokens):
        sign = 1 if token in GOOD_WORDS else -1 if token in BAD_WORDS else 0
        before = tokens[i - 1] if i > 0 else ""
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if (token in ("up", "down") and before != "thumbs") or (
            token == "well" and after != "done"
        ):
            sign = 0  # only as "thumbs up/down" and "well done"
        elif sign == 0 and len(token) >= 4:
            if any(same_word(token, w) for w in GOOD_WORDS if len(w) >= 4):
                sign = 1
            elif any(same_word(token, w) for w in BAD_WORDS if len(w) >= 4):
                sign = -1
        if sign and any(t in NEGATORS for t in tokens[max(0, i - 2) : i]):
            sign = -sign
        total += sign
    return total


def _or_list(tr: Translator, options: Sequence[str], limit: int = 6) -> str:
    """'a, b or c' in the catalogue's language (at most `limit` options)."""
    shown = list(options[:limit])
    if len(shown) <= 1:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} {tr.translate('word.or')} {shown[-1]}"


def _approval_options(tr: Translator, ids: Iterable[int]) -> str:
    return _or_list(tr, [tr.translate("clarify.approval.option", id=i) for i in ids])


@dataclass
class _Parse:
    """Everything read from one message, before the intent is decided."""

    tokens: list[str]
    url: str | None
    runbooks: FoundNames
    skills: FoundNames
    agents: FoundNames
    targets: FoundNames
    numbers: list[str]
    scores: dict[Intent, float]
    used: set[int]  # tokens that were keywords, phrases or names


#: Every phrase as (intent, words, weight), longest first: sorted once, not on every message.
_PHRASES_LONGEST_FIRST = sorted(
    (
        (intent, phrase, weight)
        for intent, table in PHRASES.items()
        for phrase, weight in table.items()
    ),
    key=lambda item: -len(item[1]),
)


def _read(text: str, context: Context) -> _Parse:
    raw = text[:MAX_CHARS]
    url_match = _URL.search(raw)
    url = url_match.group(0).rstrip(".,;:!?)]}") if url_match else None
    rest = raw[: url_match.start()] + " " + raw[url_match.end() :] if url_match else raw
    tokens = _tokenise(rest)
    free = set(range(len(tokens)))

    runbooks = find_names(tokens, free, context.runbooks)
    skills = find_names(tokens, free, context.skills)
    agents = find_names(tokens, free, context.agents)
    targets = find_names(tokens, free, context.targets)
    used = set(range(len(tokens))) - free
    for names in (runbooks, skills, agents, targets):
        names.settle(used)

    scores = dict.fromkeys(Intent, 0.0)
    # Phrases first (longest first); their words do not count again as keywords.
    for intent, phrase, weight in _PHRASES_LONGEST_FIRST:
        n = len(phrase)
        for a in range(len(tokens) - n + 1):
            span = range(a, a + n)
            if free.issuperset(span) and all(
                same_word(tokens[i], w) for i, w in zip(span, phrase, strict=True)
            ):
                scores[intent] += weight
                free -= set(span)
                used |= set(span)
                break
    has_subject = bool(url or targets.hits)
    numbers = []
    vetoed: set[Intent] = set()
    for i in sorted(free):
        token = tokens[i]
        if _NUMBER.fullmatch(token):
            numbers.append(token.lstrip("0") or "0")
            continue
        if has_subject and token in HEALTH_WORDS:
            scores[Intent.CHECK] += HEALTH_WEIGHT
            used.add(i)
            continue
        if agents.hits and token in AGENT_CUES:
            addressed = any(hit.start == i + 1 for hit in agents.hits)
            scores[Intent.HANDOVER] += AGENT_CUES[token] + (ADDRESS_BONUS if addressed else 0.0)
            used.add(i)
            continue
        for intent, weight in _keyword(token):
            used.add(i)
            if intent in ACTIONS and _vetoed(tokens, i):
                vetoed.add(intent)
                if intent is Intent.APPROVE:
                    scores[Intent.DENY] += weight
                continue
            scores[intent] += weight

    if url:
        scores[Intent.CHECK] += URL_BONUS
    if targets.hits:
        scores[Intent.CHECK] += TARGET_BONUS
    if runbooks.hits or runbooks.ambiguous:
        scores[Intent.RUN_RUNBOOK] += RUNBOOK_BONUS
    elif runbooks.near:
        scores[Intent.RUN_RUNBOOK] += RUNBOOK_HINT_BONUS
    if skills.hits:
        scores[Intent.LEARN_SKILL] += SKILL_BONUS
    if agents.hits:
        scores[Intent.HANDOVER] += AGENT_BONUS
    if "\N{THUMBS UP SIGN}" in raw or "\N{THUMBS DOWN SIGN}" in raw:
        scores[Intent.FEEDBACK] += THUMB_BONUS
    if not tokens and raw.strip() == "?":
        scores[Intent.HELP] += 1.0
    if tokens and tokens[0] in QUESTION_STARTS:
        for intent in ACTIONS:
            scores[intent] *= QUESTION_DAMPING
    if any(_vetoed(tokens, hit.start) for hit in runbooks.hits):
        vetoed.add(Intent.RUN_RUNBOOK)
    for intent in vetoed:
        scores[intent] = 0.0
    return _Parse(tokens, url, runbooks, skills, agents, targets, numbers, scores, used)


def _topic(parse: _Parse) -> str | None:
    """What a recall/knowledge/explain question is about: the words after "about", or else
    the words that were neither keywords nor filler."""
    tokens = parse.tokens
    marker = max((i for i, t in enumerate(tokens) if t in TOPIC_MARKERS), default=None)
    if marker is not None:
        picked = [t for t in tokens[marker + 1 :] if t not in STOPWORDS]
    else:
        names = {
            i
            for names in (parse.targets, parse.runbooks, parse.skills, parse.agents)
            for hit in names.hits
            for i in range(hit.start, hit.end)
        }
        picked = [
            t
            for i, t in enumerate(tokens)
            if t not in STOPWORDS and (i not in parse.used or i in names)
        ]
    topic = " ".join(picked).strip()
    return topic or None


def _unknown_word(parse: _Parse) -> str | None:
    """The first word that is neither filler, nor a keyword, nor a known name: "foo" in
    "run foo", named back to the operator so they see what was not understood."""
    return next(
        (
            t
            for i, t in enumerate(parse.tokens)
            if i not in parse.used and t not in STOPWORDS and not _NUMBER.fullmatch(t)
        ),
        None,
    )


def _confidence(scores: dict[Intent, float]) -> float:
    ranked = sorted(scores.values(), reverse=True)
    best, second = ranked[0], ranked[1]
    margin = (best - second) / best if best > 0 else 0.0
    return round(min(0.97, 0.45 + 0.3 * min(1.0, best / 2.0) + 0.25 * margin), 3)


def understand(text: str, context: Context) -> Meaning:
    """Intent, entities and confidence of an operator's message; never raises on any text."""
    tr = translator(context.lang)
    parse = _read(text, context)
    scores = parse.scores
    intent = max(PRIORITY, key=lambda i: (scores[i], -PRIORITY.index(i)))
    if scores[intent] < MIN_SCORE:
        return Meaning(
            intent=Intent.UNCLEAR,
            entities={"url": parse.url} if parse.url else {},
            confidence=0.2 if any(scores.values()) else 0.1,
            clarify=tr.translate("clarify.unclear"),
        )
    confidence = _confidence(scores)
    entities: dict[str, str] = {}
    if parse.url:
        entities["url"] = parse.url
    for key, names in (("target", parse.targets), ("skill", parse.skills), ("agent", parse.agents)):
        if names.hits:
            entities[key] = names.names[0]
    if len(parse.runbooks.names) == 1 and not parse.runbooks.ambiguous:
        entities["runbook"] = parse.runbooks.names[0]

    clarify = _clarify(intent, parse, context, entities, tr)

    if intent is Intent.FEEDBACK:
        sentiment = _sentiment(parse.tokens, text[:MAX_CHARS])
        if sentiment:
            entities["sentiment"] = "good" if sentiment > 0 else "bad"
        else:
            clarify = clarify or tr.translate("clarify.feedback.which")
    if intent in (Intent.RECALL, Intent.KNOWLEDGE, Intent.EXPLAIN):
        topic = _topic(parse) or (context.last_topic if intent is not Intent.EXPLAIN else None)
        if topic:
            entities["topic"] = topic
    if clarify:
        confidence = min(confidence, CLARIFY_CONFIDENCE)
    return Meaning(intent=intent, entities=entities, confidence=confidence, clarify=clarify)


def _clarify(
    intent: Intent, parse: _Parse, context: Context, entities: dict[str, str], tr: Translator
) -> str | None:
    """The question to ask when a risky intent lacks what it needs (entities are fixed up)."""
    if intent is Intent.RUN_RUNBOOK:
        runbooks = parse.runbooks
        if len(runbooks.names) > 1 or runbooks.ambiguous:
            entities.pop("runbook", None)
            options = _or_list(tr, runbooks.ambiguous or runbooks.names)
            key = "clarify.did_you_mean" if runbooks.ambiguous else "clarify.runbook.one"
            return tr.translate(key, options=options)
        if "runbook" not in entities:
            if runbooks.near:
                return tr.translate("clarify.did_you_mean", options=_or_list(tr, runbooks.near))
            if not context.runbooks:
                return tr.translate("clarify.runbook.none")
            known = _or_list(tr, sorted(context.runbooks))
            unknown = _unknown_word(parse)
            if unknown:
                return tr.translate("clarify.runbook.unknown", name=unknown, options=known)
            return tr.translate("clarify.runbook.which", options=known)
        if len(parse.targets.names) > 1:
            entities.pop("target", None)
            return tr.translate("clarify.target.which", options=_or_list(tr, parse.targets.names))
        return None
    if intent in (Intent.APPROVE, Intent.DENY):
        pending = list(dict.fromkeys(context.pending_approvals))
        verb = "approve" if intent is Intent.APPROVE else "deny"
        if parse.numbers:
            wanted = parse.numbers[0]
            if pending and int(wanted) not in pending:
                return tr.translate(
                    "clarify.approval.unknown", id=wanted, options=_approval_options(tr, pending)
                )
            entities["approval_id"] = wanted
            return None
        if len(pending) == 1:
            entities["approval_id"] = str(pending[0])
            return None
        if not pending:
            return tr.translate("clarify.approval.none")
        return tr.translate(f"clarify.{verb}.which", options=_approval_options(tr, pending))
    if intent is Intent.CHECK and "url" not in entities and "target" not in entities:
        if parse.targets.near:
            return tr.translate("clarify.did_you_mean", options=_or_list(tr, parse.targets.near))
        if len(context.targets) == 1:
            entities["target"] = context.targets[0]
            return None
        if not context.targets:
            return tr.translate("clarify.check.none")
        return tr.translate("clarify.check.which", options=_or_list(tr, sorted(context.targets)))
    if intent is Intent.LEARN_SKILL and "skill" not in entities:
        if parse.skills.near:
            return tr.translate("clarify.did_you_mean", options=_or_list(tr, parse.skills.near))
        if not context.skills:
            return tr.translate("clarify.skill.none")
        return tr.translate("clarify.skill.which", options=_or_list(tr, sorted(context.skills)))
    if intent is Intent.HANDOVER and "agent" not in entities:
        if parse.agents.near:
            return tr.translate("clarify.did_you_mean", options=_or_list(tr, parse.agents.near))
        if not context.agents:
            return tr.translate("clarify.agent.none")
        return tr.translate("clarify.agent.which", options=_or_list(tr, sorted(context.agents)))
    return None
