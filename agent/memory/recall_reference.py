"""The reference recall scorer: the score of `agent.memory.recall`, as one Python loop per episode.

Slow on purpose and written to be read, not run in production: every step of the memory score
(Park et al., 2023) is spelt out per episode, in float64 after the dot product, so the
vectorised `EpisodeIndex` and `score` can be checked against it (tests/test_recall.py) and
benchmarked against it (tests/benchmarks/bench_recall.py). It shares only the weights and the
flatness threshold with the fast path, never its code.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from agent.memory.recall import DEFAULT_WEIGHTS, FLAT, Floats, RecallWeights


def _normalise_list(values: list[float]) -> list[float]:
    if not values:
        return []
    low, high = min(values), max(values)
    if not high - low > FLAT:
        return [0.0] * len(values)
    return [(v - low) / (high - low) for v in values]


def score_loop(
    query: npt.ArrayLike,
    vectors_rows: Sequence[Floats],
    ts: Sequence[float],
    importance: Sequence[float],
    now: float,
    weights: RecallWeights = DEFAULT_WEIGHTS,
) -> list[float]:
    """The reference: `score` as one Python loop per episode, in float64 after the dot."""
    q = np.asarray(query, dtype=np.float32)
    relevance: list[float] = []
    ages: list[float] = []
    for row, t in zip(vectors_rows, ts, strict=True):
        relevance.append(float(np.dot(row, q)))
        ages.append(max(0.0, now - t))
    youngest = min(ages, default=0.0)
    recency = [2.0 ** (-(age - youngest) / weights.half_life_s) for age in ages]
    rel_n = _normalise_list(relevance)
    rec_n = _normalise_list(recency)
    imp_n = _normalise_list([float(i) for i in importance])
    return [
        weights.relevance * r + weights.recency * c + weights.importance * i
        for r, c, i in zip(rel_n, rec_n, imp_n, strict=True)
    ]
