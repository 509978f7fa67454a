"""Reflection: turning a run of episodes into insights, each with the episodes it came from.

Pure: it reads `EpisodeView`s and returns `Insight`s; the memory stores them as facts. Three
kinds, chosen because an operator would want to know them:
- a target's normal latency band (median and the 10th-90th percentile of healthy checks);
- which action fixed which kind of situation (its rate over its credited tries, the `remedy`
  episodes of agent/core/remedy.py: only remedies run on a confirmed fault and verified after
  count), stated only once it fixed at least `MIN_FIXES_FOR_FACT` incidents;
- a recurring hour of failure for a target (a UTC hour holding at least 40% of 5+ failures,
  seen on at least `MIN_DAYS_FOR_HOUR` distinct days: one bad afternoon is not a pattern).

A fact needs support: a false one ("slow fixed_by restart") is worse than none, because
agents and operators act on it.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class EpisodeView:
    id: int
    kind: str
    summary: str
    importance: float
    ts: float
    situation: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Insight:
    subject: str
    predicate: str
    value: str
    confidence: float
    sources: tuple[int, ...]


MIN_LATENCY_SAMPLES = 5
MIN_FAILURES_FOR_HOUR = 5
#: Incidents a remedy must have fixed before "situation fixed_by remedy" is stated.
MIN_FIXES_FOR_FACT = 3
#: Distinct UTC days the failures at an hour must span before a time-of-day fact is stated.
MIN_DAYS_FOR_HOUR = 2


def _confidence(n: float, k: float = 5.0) -> float:
    """More evidence, more confidence, never certainty: n / (n + k), at most 0.95."""
    return round(min(0.95, n / (n + k)), 3)


def reflect(episodes: Sequence[EpisodeView]) -> list[Insight]:
    insights: list[Insight] = []
    latencies: dict[str, list[tuple[float, int]]] = defaultdict(list)
    tries: dict[tuple[str, str], list[tuple[bool, int]]] = defaultdict(list)
    failures: dict[str, list[tuple[int, int]]] = defaultdict(list)
    days: dict[tuple[str, int], set[int]] = defaultdict(set)
    for e in episodes:
        d = e.details
        target = d.get("target")
        if d.get("healthy") is True and target and isinstance(d.get("latency_ms"), int | float):
            latencies[target].append((float(d["latency_ms"]), e.id))
        if e.kind == "remedy" and e.situation and d.get("action"):
            tries[(e.situation, d["action"])].append((d.get("fixed") is True, e.id))
        if d.get("healthy") is False and target:
            when = datetime.fromtimestamp(e.ts, UTC)
            failures[target].append((when.hour, e.id))
            days[(target, when.hour)].add(when.date().toordinal())

    for target, samples in latencies.items():
        if len(samples) < MIN_LATENCY_SAMPLES:
            continue
        values = sorted(v for v, _ in samples)
        deciles = statistics.quantiles(values, n=10)
        p50 = statistics.median(values)
        insights.append(
            Insight(
                target,
                "normal_latency_ms",
                f"{p50:.0f} ({deciles[0]:.0f}-{deciles[-1]:.0f})",
                _confidence(len(values)),
                tuple(i for _, i in samples[-20:]),
            )
        )

    by_situation: dict[str, list[tuple[float, str, int, list[int]]]] = defaultdict(list)
    for (situation, action), results in tries.items():
        wins = sum(ok for ok, _ in results)
        if wins >= MIN_FIXES_FOR_FACT:
            rate = wins / len(results)
            by_situation[situation].append((rate, action, len(results), [i for _, i in results]))
    for situation, options in by_situation.items():
        rate, action, n, ids = max(options)
        insights.append(
            Insight(
                situation,
                "fixed_by",
                action,
                round(rate * _confidence(n, 2.0), 3),
                tuple(ids[-20:]),
            )
        )

    for target, hours in failures.items():
        if len(hours) < MIN_FAILURES_FOR_HOUR:
            continue
        hour, count = Counter(h for h, _ in hours).most_common(1)[0]
        if count / len(hours) >= 0.4 and len(days[(target, hour)]) >= MIN_DAYS_FOR_HOUR:
            insights.append(
                Insight(
                    target,
                    "fails_often_at",
                    f"{hour:02d}:00-{(hour + 1) % 24:02d}:00 UTC",
                    _confidence(count),
                    tuple(i for h, i in hours if h == hour)[-20:],
                )
            )
    return insights


def merge_confidence(
    old_value: str, old_confidence: float, new_value: str, new_confidence: float
) -> tuple[str, float]:
    """Update a fact with new evidence.

    Agreement raises confidence (noisy-OR, capped at 0.99); a contradiction lowers it by the
    new evidence's weight, and the new value replaces the old only once it is the stronger.
    """
    if new_value == old_value:
        return old_value, round(min(0.99, 1 - (1 - old_confidence) * (1 - new_confidence)), 4)
    weakened = old_confidence * (1 - new_confidence)
    if new_confidence > weakened:
        return new_value, round(new_confidence * (1 - weakened), 4)
    return old_value, round(weakened, 4)
