"""Fuzzy matching of what an operator typed against the words and names the agent knows.

Operators type fast: "chek", "stauts", "restart api" for `restart-api`. Two kinds of matching
live here, both pure and cached:
- words (`same_word`): a word matches itself, a typo of it (difflib ratio at least
  `KEYWORD_RATIO`, words of four letters or more) or one swap of neighbouring letters;
- names (`find_names`): the names the context knows (runbooks, skills, teammates, targets)
  found in the tokens as a run of words compared without separators, with near misses kept as
  "did you mean" suggestions. The rules are step 2 of `understand`'s docstring.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from agent.social.language.vocabulary import STOPWORDS

NAME_RATIO = 0.75
SHORT_NAME_RATIO = 0.8
KEYWORD_RATIO = 0.8

_SEPARATORS = re.compile(r"[\s\-_.]+")


def swapped(a: str, b: str) -> bool:
    """Whether a and b differ by one swap of neighbouring letters ("stauts" / "status")."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and (a[diff[1]] == b[diff[0]])
    )


@lru_cache(maxsize=8192)
def same_word(token: str, word: str) -> bool:
    """The word itself, or a typo of it (words of four letters or more)."""
    if token == word:
        return True
    if len(word) < 4 or len(token) < 4 or abs(len(word) - len(token)) > 2:
        return False
    return swapped(token, word) or SequenceMatcher(None, token, word).ratio() >= KEYWORD_RATIO


@dataclass(frozen=True)
class NameHit:
    """A name found in the message: `name` matched tokens[start:end] with `score`."""

    name: str
    score: float
    start: int
    end: int


@dataclass
class FoundNames:
    """The names of one kind found in the message, and the near misses worth suggesting."""

    hits: list[NameHit] = field(default_factory=list)
    near: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    # name -> (score, tokens it was seen in), before `settle` turns it into `near`
    maybe: dict[str, tuple[float, frozenset[int]]] = field(default_factory=dict)

    def settle(self, taken: set[int]) -> None:
        """Suggest the near misses, best first, unless their words turned out to be other names."""
        matched = set(self.names)
        ranked = sorted(self.maybe.items(), key=lambda kv: (-kv[1][0], kv[0]))
        self.near = [n for n, (_, at) in ranked if n not in matched and not at <= taken]

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(hit.name for hit in sorted(self.hits, key=lambda h: h.start)))


def _squash(text: str) -> str:
    return _SEPARATORS.sub("", text.lower())


def _parts(name: str) -> list[str]:
    return [part for part in _SEPARATORS.split(name.lower()) if part]


@lru_cache(maxsize=8192)
def _name_score(said: str, name: str, parts: tuple[str, ...]) -> float:
    """How well a squashed run of words matches a squashed name (0 when it does not).

    Besides difflib's ratio, every part of the name must be at least 60 % covered by the
    matching blocks; otherwise a shared part ("check" in "shop check" and `http_check`) would
    carry the match. Such a score is capped below any threshold (a suggestion at most).
    """
    if said == name:
        return 1.0
    if swapped(said, name):
        return 0.92
    if len(said) < 3 or abs(len(said) - len(name)) > max(1, len(name) // 4):
        return 0.0
    matcher = SequenceMatcher(None, said, name)
    if matcher.real_quick_ratio() < 0.5 or matcher.quick_ratio() < 0.5:
        return 0.0  # cheap upper bounds: cannot even be a suggestion
    ratio = matcher.ratio()
    owner = [k for k, part in enumerate(parts) for _ in part]  # part index of each letter
    covered = [0] * len(parts)
    for block in matcher.get_matching_blocks():
        for j in range(block.b, block.b + block.size):
            covered[owner[j]] += 1
    if any(c < 0.6 * len(part) for c, part in zip(covered, parts, strict=True)):
        return min(ratio, 0.59)
    return ratio


def _name_threshold(name: str) -> float:
    return SHORT_NAME_RATIO if len(name) <= 4 else NAME_RATIO


def find_names(tokens: list[str], free: set[int], names: Sequence[str]) -> FoundNames:
    """Match `names` against the free tokens; matched spans are removed from `free`."""
    found = FoundNames()
    lowered = {name.lower() for name in names}
    content = [i for i in sorted(free) if tokens[i] not in STOPWORDS or tokens[i] in lowered]
    candidates: list[NameHit] = []
    for name in dict.fromkeys(names):
        squashed, parts = _squash(name), tuple(_parts(name))
        if not squashed:
            continue
        for a in range(len(content)):
            for width in range(1, min(len(parts) + 1, 4) + 1):
                span = content[a : a + width]
                if len(span) < width or span[-1] - span[0] >= width + 2:
                    break  # ran out of words, or the words are too far apart to be one name
                said = "".join(_squash(tokens[i]) for i in span)
                score = _name_score(said, squashed, parts)
                if score >= _name_threshold(squashed):
                    candidates.append(NameHit(name, score, span[0], span[-1] + 1))
                    continue
                if score < 0.6 and width == 1 and len(parts) > 1 and said in parts:
                    score = 0.5  # one part of a longer name: "restart" for restart-api
                if score >= 0.5 and score > found.maybe.get(name, (0.0, frozenset()))[0]:
                    found.maybe[name] = (score, frozenset(span))
    # Best first; a longer span wins a tie ("restart api" over "api").
    candidates.sort(key=lambda h: (-h.score, -(h.end - h.start), h.start, h.name))
    for hit in candidates:
        covered = set(range(hit.start, hit.end))
        if not covered <= free:
            rival = next((h for h in found.hits if h.start == hit.start and h.end == hit.end), None)
            if rival and rival.name != hit.name and rival.score - hit.score < 0.05:
                found.ambiguous += [n for n in (rival.name, hit.name) if n not in found.ambiguous]
            continue
        found.hits.append(hit)
        free -= covered
    return found
