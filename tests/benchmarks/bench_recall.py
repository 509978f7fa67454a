"""Recall over 100,000 episodes: the vectorised index against the bare matvec and the loop."""

from __future__ import annotations

import heapq

import numpy as np
import numpy.typing as npt

from agent.memory.embedding import DIM
from agent.memory.recall import DEFAULT_WEIGHTS, EpisodeIndex
from agent.memory.recall_reference import score_loop
from tests.benchmarks.figures import Figure, median_time

ROWS = 100_000
QUERIES = 50
LIMIT = 10
NOW = 1_750_000_000.0


def _unit(rows: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    rows /= np.linalg.norm(rows, axis=-1, keepdims=True)
    return rows


def run() -> list[Figure]:
    rng = np.random.default_rng(2023)
    vectors = _unit(rng.standard_normal((ROWS, DIM), dtype=np.float32))
    ts = NOW - rng.uniform(0, 90 * 86_400, ROWS)
    importance = rng.random(ROWS, dtype=np.float32)
    index = EpisodeIndex()
    index.extend(np.arange(ROWS), vectors, ts, importance)
    queries = _unit(rng.standard_normal((QUERIES + 5, DIM), dtype=np.float32))
    for query in queries[-5:]:  # warm up: scratch buffers, BLAS threads
        index.search(query, NOW, limit=LIMIT)

    pending = iter(queries[:QUERIES])
    search_s = median_time(lambda: index.search(next(pending), NOW, limit=LIMIT), QUERIES)
    # The floor: the bare product over the same rows, stored column-major as in the index,
    # and, for comparison, over the row-major array they came from.
    column_major = np.asfortranarray(vectors)
    out = np.empty(ROWS, dtype=np.float32)
    pending = iter(queries[:QUERIES])
    matvec_s = median_time(lambda: np.matmul(column_major, next(pending), out=out), QUERIES)
    pending = iter(queries[:QUERIES])
    row_major_s = median_time(lambda: np.matmul(vectors, next(pending), out=out), QUERIES)

    rows = list(vectors)
    ts_list, importance_list = ts.tolist(), importance.tolist()

    def loop() -> list[int]:
        scores = score_loop(queries[0], rows, ts_list, importance_list, NOW, DEFAULT_WEIGHTS)
        return heapq.nlargest(LIMIT, range(ROWS), key=lambda i: (scores[i], i))

    loop_s = median_time(loop, repeat=2)
    same = loop() == [h.id for h in index.search(queries[0], NOW, limit=LIMIT)]

    return [
        Figure(
            "memory.recall_100k_p50_ms",
            search_s * 1000,
            "ms",
            "<= 20",
            f"bare matvec {matvec_s * 1000:.2f} ms ({search_s / matvec_s:.2f}x); "
            f"row-major {row_major_s * 1000:.2f} ms",
        ),
        Figure(
            "memory.recall_speedup_vs_loop",
            loop_s / search_s,
            "x",
            ">= 50",
            f"per-episode Python loop {loop_s * 1000:.0f} ms "
            f"({'same' if same else 'DIFFERENT'} top {LIMIT})",
        ),
        Figure(
            "memory.embeddings_100k_mb",
            index.nbytes / 2**20,
            "MB",
            "<= 128",
            f"100,000 x 256 float32 ({index.capacity_nbytes / 2**20:.0f} MB allocated)",
        ),
    ]
