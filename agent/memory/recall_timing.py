"""How long recall takes, kept as histogram buckets so `/metrics` can show it at scrape.

Recall (`EpisodicMemory.recall_similar`, which `webops memory --search` and every decision's
precedents go through) is the kernel's most expensive read; an operator watching it grow with
the episodes kept wants its latency, not a guess. Observing costs two clock reads and a bisect;
nothing here knows about Prometheus: the API's collector reads the counts.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: Upper bounds (seconds) of the buckets: recall runs from well under a millisecond (a small
#: memory) to around a second (hundreds of thousands of episodes on a slow disk).
BUCKETS_S: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
)


class RecallTimings:
    """Counts of recalls per latency bucket (the last one is everything slower), and the sum."""

    def __init__(self, bounds: tuple[float, ...] = BUCKETS_S) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total_s = 0.0

    @property
    def count(self) -> int:
        return sum(self.counts)

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.total_s += seconds

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, recalls at most that slow), the last bound infinite."""
        running, out = 0, []
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += n
            out.append((bound, running))
        return out

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Observe how long the block took (also when it raised)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.observe(time.perf_counter() - started)
