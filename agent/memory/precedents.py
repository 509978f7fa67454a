"""Precedents: what an agent's memories of similar situations say about each remedy.

Before choosing a remedy, an agent recalls its `remedy` episodes nearest the situation and its
`fixed_by` facts (agent/memory/memory.py `AgentMemory.precedents`); this module turns them into
a prior per candidate for the bandit (agent/memory/learning.py), and the lines that cite them.
Pure: the memories come in with their similarity to the situation (cosine of the situations'
embeddings, in [0, 1]) and go out as numbers and words.

What counts, and how much (each situation counts once per remedy, however often it was met,
so one remedy used fifty times on one fault does not drown everything else):
- the same situation (similarity at least `SAME`), and a fact "situation fixed_by remedy"
  about it (weighted by its confidence): the remedy's record there, as it is;
- a similar, different situation (similarity from `UNRELATED`): only as far as outcomes have
  carried over between similar situations in the agent's own experience (`transfer`). Where
  similar situations have shared their fixes (a 503 on one service and on another), what
  fixed or failed there is a hint for here, a prior toward it or a penalty. Where they have
  needed different fixes (a 503 from an overload, one from a dead database: the checks told
  them apart), the fix of the look-alike is evidence against it here (that fix was for what
  differs) and its failures say nothing. With no such experience, nothing carries over.
The prior is the neutral value moved by that evidence and shrunk toward it by `SHRINK`
pseudo-observations, so a little evidence moves it a little; its weight is the evidence's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

#: What a remedy nothing is known about is worth (as agent/memory/learning.py `PRIOR`).
NEUTRAL = 0.5
#: From this similarity two situations are taken as the same one.
SAME = 0.9
#: Below this similarity a situation says nothing about another.
UNRELATED = 0.25
#: Pseudo-observations of the neutral value that every prior is shrunk with.
SHRINK = 1.0
#: Citations kept per decision (the strongest first).
MAX_CITED = 3


@dataclass(frozen=True)
class RemedyMemory:
    """A recalled `remedy` episode: `action` ran on `situation` (at `target`) and fixed it or
    not; `similarity` is the situation's to the one being decided about."""

    id: int
    situation: str
    action: str
    fixed: bool
    similarity: float
    target: str | None = None


@dataclass(frozen=True)
class FixFact:
    """A fact "`subject` fixed_by `action`" with its confidence, and the subject's similarity."""

    id: int
    subject: str
    action: str
    confidence: float
    similarity: float


@dataclass(frozen=True)
class Prior:
    """What memory says a remedy is worth here (`value` in [0, 1]), on how much evidence
    (`weight`, in observations' worth), and the memories that say it."""

    value: float
    weight: float
    cites: tuple[str, ...] = ()


@dataclass(frozen=True)
class Precedents:
    """Priors per candidate remedy, and every citation (for the explanation)."""

    priors: dict[str, Prior] = field(default_factory=dict)
    #: How far outcomes carry over between similar, different situations (`transfer`).
    carry: float = 0.0

    def as_pairs(self) -> dict[str, tuple[float, float]]:
        """Value and weight per remedy, as the learner takes them."""
        return {a: (p.value, p.weight) for a, p in self.priors.items() if p.weight > 0}

    def citations(self, action: str | None = None) -> list[str]:
        """The lines that cite memories: those about `action`, or all (strongest first)."""
        if action is not None:
            prior = self.priors.get(action)
            return list(prior.cites) if prior else []
        ranked = sorted(self.priors.values(), key=lambda p: p.weight, reverse=True)
        return list(dict.fromkeys(c for p in ranked for c in p.cites))


def cite_episode(m: RemedyMemory) -> str:
    where = f" on {m.target}" if m.target else ""
    verb = "fixed" if m.fixed else "did not fix"
    return f"episode {m.id}: {m.action} {verb} {m.situation}{where}"


def cite_fact(f: FixFact) -> str:
    return f"fact {f.id}: {f.subject} fixed_by {f.action}, confidence {f.confidence:.2f}"


def transfer(
    fixers: Mapping[str, set[str]], between: Callable[[str, str], float]
) -> tuple[float, int]:
    """How far a fix carries over between similar, different situations, in this agent's own
    experience: over pairs of situations it knows a fix for, weighted by their similarity,
    +1 when they share a fix and -1 when not, shrunk toward 0 by `SHRINK`; and the pairs."""
    known = sorted(s for s, actions in fixers.items() if actions)
    total = weight = 0.0
    pairs = 0
    for i, first in enumerate(known):
        for second in known[i + 1 :]:
            w = between(first, second)
            if UNRELATED <= w < SAME:
                shared = bool(fixers[first] & fixers[second])
                total += w * (1.0 if shared else -1.0)
                weight += w
                pairs += 1
    return total / (weight + SHRINK), pairs


def precedents(
    situation: str,
    candidates: Sequence[str],
    remedies: Iterable[RemedyMemory],
    facts: Iterable[FixFact] = (),
    between: Callable[[str, str], float] | None = None,
) -> Precedents:
    """The prior for each of `candidates` in `situation` from these memories (see the module);
    `between` is the similarity of two situations (for `transfer`; without it nothing
    carries over between different situations)."""
    wanted = set(candidates)
    remedies = sorted(remedies, key=lambda m: m.id, reverse=True)  # newest first
    # (action, situation) -> the memories of it; situation -> its similarity, its fixes
    seen: dict[tuple[str, str], list[RemedyMemory]] = defaultdict(list)
    similarity: dict[str, float] = {}
    fixers: dict[str, set[str]] = defaultdict(set)
    for m in remedies:
        seen[(m.action, m.situation)].append(m)
        similarity[m.situation] = m.similarity
    for (action, where), ms in seen.items():
        if sum(m.fixed for m in ms) * 2 >= len(ms):
            fixers[where].add(action)
    for f in facts:
        similarity.setdefault(f.subject, f.similarity)
        fixers[f.subject].add(f.action)
    carry, _pairs = transfer(fixers, between) if between is not None else (0.0, 0)
    # action -> [(evidence weight, reward, citation)]
    evidence: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for (action, where), ms in seen.items():
        near = similarity[where]
        if action not in wanted or near < UNRELATED:
            continue
        fixes = sum(m.fixed for m in ms)
        rate = fixes / len(ms)
        example = next((m for m in ms if m.fixed == (rate >= 0.5)), ms[0])
        if near >= SAME or where == situation:
            evidence[action].append((float(len(ms)), rate, cite_episode(example)))
        elif carry > 0:  # what worked or failed there tends to here
            evidence[action].append((carry * near, rate, cite_episode(example)))
        elif carry < 0 and action in fixers[where]:  # that fix was for what differs
            evidence[action].append((-carry * near, 0.0, cite_episode(example)))
    for f in facts:
        if f.action not in wanted or f.similarity < UNRELATED:
            continue
        if f.similarity >= SAME or f.subject == situation:
            evidence[f.action].append((f.confidence, 1.0, cite_fact(f)))
        elif carry != 0:
            reward = 1.0 if carry > 0 else 0.0
            evidence[f.action].append(
                (abs(carry) * f.similarity * f.confidence, reward, cite_fact(f))
            )
    priors: dict[str, Prior] = {}
    for action, items in evidence.items():
        items = [i for i in items if i[0] >= 1e-4]  # what rounds to no weight says nothing
        if not items:
            continue
        weight = sum(w for w, _, _ in items)
        value = (SHRINK * NEUTRAL + sum(w * r for w, r, _ in items)) / (SHRINK + weight)
        strongest = sorted(items, key=lambda i: i[0], reverse=True)[:MAX_CITED]
        priors[action] = Prior(round(value, 4), round(weight, 4), tuple(c for _, _, c in strongest))
    return Precedents(priors, round(carry, 4))
