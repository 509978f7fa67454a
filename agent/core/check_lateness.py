"""How late checks start: the schedule's own measure of whether it keeps up.

A check is late by the time between when it was due and when it started (a free concurrency
slot included). At 5,000 targets a burst or a blocking call on the loop shows here first, long
before a check times out. Kept cheap: fixed histogram buckets (what `/metrics` exports), a
running sum and the most recent samples for percentiles (a bounded deque, sorted only when a
summary is asked for).
"""

from __future__ import annotations

import bisect
from collections import deque

#: Upper bounds (seconds) of the histogram's buckets; the last bucket is +Inf.
BUCKETS_S: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Recent samples kept for percentiles: two intervals of 5,000 targets.
RECENT = 10_000


class Lateness:
    def __init__(self) -> None:
        #: Samples per bucket (not cumulative); the last one is above every bound.
        self.buckets = [0] * (len(BUCKETS_S) + 1)
        self.count = 0
        self.sum_s = 0.0
        self.max_s = 0.0
        self._recent: deque[float] = deque(maxlen=RECENT)

    def observe(self, late_s: float) -> None:
        late_s = max(0.0, late_s)
        self.buckets[bisect.bisect_left(BUCKETS_S, late_s)] += 1
        self.count += 1
        self.sum_s += late_s
        self.max_s = max(self.max_s, late_s)
        self._recent.append(late_s)

    def quantile(self, q: float) -> float | None:
        """The `q` quantile (0..1) of the recent samples; None before any check."""
        if not self._recent:
            return None
        ordered = sorted(self._recent)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, samples at or below it) per bucket, +Inf last: Prometheus' shape."""
        total = 0
        out = []
        for bound, n in zip((*BUCKETS_S, float("inf")), self.buckets, strict=True):
            total += n
            out.append((bound, total))
        return out

    def summary(self) -> dict[str, float | int | None]:
        """What `webops run` prints: checks measured, p50, p95 and the worst (seconds)."""
        return {
            "checks": self.count,
            "p50_s": self.quantile(0.5),
            "p95_s": self.quantile(0.95),
            "max_s": self.max_s if self.count else None,
        }
