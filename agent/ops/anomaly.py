"""Per-target baselines, so that "slow" and "failing a lot" are learned rather than hard-coded.

- Latency: the median and the median absolute deviation (MAD) of the last `window` healthy
  latencies, and the robust z-score `(x - median) / (1.4826 * MAD)` of a new one (Hampel 1974;
  Leys et al. 2013, who recommend a cut-off of 2.5 to 3, stricter here because a page is
  costlier than a missed blip). The factor 1.4826 makes the MAD estimate a standard deviation
  for normal data. A single outlier barely moves the median and the MAD, unlike a mean and SD,
  so a slow spike does not hide the next one. The MAD is floored at 1 ms and at 2 % of the
  median: a perfectly steady service would otherwise make a 1 ms wobble look infinite.
- Sustained: one slow sample is a blip (a GC pause, a busy neighbour), not a fault. A latency
  anomaly is `sustained` only when at least `sustain_k` of the last `sustain_n` samples (this
  one included) deviate, each both beyond the threshold above and at least `min_delta_ms`
  above the median: a steady 20 ms service going to 40 ms is many SDs out but nobody's fault.
  Checks report `slow` from `sustained` (agent/ops/service.py).
- Errors: an exponentially weighted moving average (EWMA, Roberts 1959) of the failure
  indicator with alpha 0.1, bias-corrected as in Kingma & Ba (2015) so the first few checks
  count at full weight instead of being pulled toward a zero start.

Pure: no clock and no I/O; the caller feeds observations in order (`add`) and asks about a new
one (`assess`), and can rebuild a baseline from stored history (`replay`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["MAD_TO_SD", "MAX_LATENCY_MS", "Anomaly", "Baseline"]

#: 1 / Phi^-1(3/4): the MAD of a normal distribution times this is its standard deviation.
MAD_TO_SD = 1.4826
#: About 31 years; anything longer is clipped (a probe has long since timed out).
MAX_LATENCY_MS = 1e12


@dataclass(frozen=True)
class Anomaly:
    """How one observation compares with its target's baseline."""

    slow: bool
    error_burst: bool
    #: Robust z-score of the latency; 0.0 without a latency or without samples.
    score: float
    #: Of the healthy latencies so far; None before the first one.
    median_ms: float | None
    #: The floored MAD actually used for the score; None before the first sample.
    mad_ms: float | None
    #: Bias-corrected EWMA of the failure rate, including this observation.
    error_rate: float
    #: One line explaining the verdict: why it is slow or a burst, starts with "normal: " when
    #: the latency was judged and found ordinary, or says why it could not be judged yet.
    reason: str
    #: How many latency samples the baseline holds.
    samples: int = 0
    #: This sample deviates (slow, and at least `min_delta_ms` above the median) and so did
    #: enough recent ones: `sustain_k` of the last `sustain_n`.
    sustained: bool = False

    @property
    def anomalous(self) -> bool:
        return self.slow or self.error_burst


class Baseline:
    """A latency ring buffer of healthy checks plus an EWMA of the error rate, per target."""

    def __init__(
        self,
        window: int = 200,
        *,
        min_samples: int = 20,
        threshold: float = 5.0,
        alpha: float = 0.1,
        burst_rate: float = 0.5,
        min_observations: int = 5,
        sustain_k: int = 2,
        sustain_n: int = 3,
        min_delta_ms: float = 50.0,
    ) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        if not 0.0 < alpha <= 1.0:
            raise ValueError("alpha must be in (0, 1]")
        if not 1 <= sustain_k <= sustain_n:
            raise ValueError("sustain_k must be between 1 and sustain_n")
        self.sustain_k = sustain_k
        self.sustain_n = sustain_n
        self.min_delta_ms = min_delta_ms
        #: Whether each of the latest checks deviated, oldest first (excluding the next one).
        self._recent: deque[bool] = deque(maxlen=max(sustain_n - 1, 1))
        self.window = window
        self.min_samples = min_samples
        self.threshold = threshold
        self.alpha = alpha
        self.burst_rate = burst_rate
        self.min_observations = min_observations
        self._buffer = np.zeros(window, dtype=np.float64)
        self._count = 0  # samples held, <= window
        self._next = 0  # where the next sample goes
        self._ewma = 0.0  # uncorrected; see error_rate
        self._observations = 0

    def replay(self, samples: Sequence[tuple[float | None, bool]]) -> Baseline:
        """Feed stored `(latency_ms, healthy)` pairs, oldest first (a restart rebuilding what
        it knew); returns this baseline."""
        judged_from = len(samples) - self.sustain_n  # only the latest can still count
        for i, (latency_ms, healthy) in enumerate(samples):
            self.add(latency_ms, healthy, judge=i >= judged_from)
        return self

    @property
    def samples(self) -> npt.NDArray[np.float64]:
        """The latency samples held, oldest first (a copy)."""
        if self._count < self.window:
            return self._buffer[: self._count].copy()
        return np.roll(self._buffer, -self._next)

    @property
    def observations(self) -> int:
        """Checks seen, healthy or not."""
        return self._observations

    @property
    def error_rate(self) -> float:
        return self._corrected(self._ewma, self._observations)

    def __len__(self) -> int:
        return self._count

    def add(self, latency_ms: float | None, healthy: bool, *, judge: bool = True) -> None:
        """Record one check. Only healthy latencies join the latency baseline: a timeout or a
        fast 503 says nothing about how fast the service normally answers. (`judge=False`
        skips deciding whether it deviated, for history too old to count towards `sustained`.)"""
        self._ewma, self._observations = self._step(healthy)
        value = _usable(latency_ms)
        if self.sustain_n > 1:
            self._recent.append(judge and healthy and self._deviates(value))
        if healthy and value is not None:
            self._buffer[self._next] = value
            self._next = (self._next + 1) % self.window
            self._count = min(self._count + 1, self.window)

    def assess(self, latency_ms: float | None, healthy: bool) -> Anomaly:
        """Judge one observation against the baseline without recording it (call `add` after,
        or use `observe`). The latency is scored against the samples before it; the error rate
        includes it, so a burst is reported on the check that completes it."""
        ewma, observations = self._step(healthy)
        error_rate = self._corrected(ewma, observations)
        error_burst = observations >= self.min_observations and error_rate > self.burst_rate

        value = _usable(latency_ms)
        median: float | None = None
        mad: float | None = None
        score = 0.0
        if self._count:
            data = self._buffer[: self._count]
            median = float(np.median(data))
            raw_mad = float(np.median(np.abs(data - median)))
            mad = max(raw_mad, 1.0, 0.02 * median)
            if value is not None:
                score = (value - median) / (MAD_TO_SD * mad)
        slow = value is not None and self._count >= self.min_samples and score > self.threshold
        sustained = False
        if healthy and self._deviates(value):
            recent = list(self._recent)[-(self.sustain_n - 1) :] if self.sustain_n > 1 else []
            sustained = 1 + sum(recent) >= self.sustain_k

        reasons: list[str] = []
        if value is not None and median is not None:
            if self._count < self.min_samples:
                reasons.append(
                    f"latency {value:.0f} ms, but only {self._count} of {self.min_samples} "
                    "samples to judge it by"
                )
            elif score > 0:
                reasons.append(
                    f"latency {value:.0f} ms is {score:.1f} robust SDs above "
                    f"the median {median:.0f} ms"
                )
            else:
                reasons.append(f"latency {value:.0f} ms is at or below the median {median:.0f} ms")
            if self._count >= self.min_samples and not slow:
                reasons[-1] = "normal: " + reasons[-1]
            elif slow and not sustained:
                reasons.append(
                    f"not sustained: fewer than {self.sustain_k} of the last {self.sustain_n} "
                    f"samples at least {self.min_delta_ms:g} ms above the median"
                )
        elif value is not None:
            reasons.append(f"latency {value:.0f} ms, no baseline yet")
        if error_burst:
            reasons.append(f"error rate {error_rate:.2f} (EWMA) is above {self.burst_rate:.2f}")
        return Anomaly(
            slow=slow,
            error_burst=error_burst,
            score=score,
            median_ms=median,
            mad_ms=mad,
            error_rate=error_rate,
            reason="; ".join(reasons),
            samples=self._count,
            sustained=sustained,
        )

    def observe(self, latency_ms: float | None, healthy: bool) -> Anomaly:
        """`assess`, then `add`: the usual call once per check."""
        anomaly = self.assess(latency_ms, healthy)
        self.add(latency_ms, healthy)
        return anomaly

    def _deviates(self, value: float | None) -> bool:
        """`value` is beyond the threshold and at least `min_delta_ms` above the median of the
        samples held (never before `min_samples` of them)."""
        if value is None or self._count < self.min_samples:
            return False
        data = self._buffer[: self._count]
        median = float(np.median(data))
        mad = max(float(np.median(np.abs(data - median))), 1.0, 0.02 * median)
        score = (value - median) / (MAD_TO_SD * mad)
        return score > self.threshold and value - median >= self.min_delta_ms

    def _step(self, healthy: bool) -> tuple[float, int]:
        failure = 0.0 if healthy else 1.0
        return self.alpha * failure + (1.0 - self.alpha) * self._ewma, self._observations + 1

    def _corrected(self, ewma: float, observations: int) -> float:
        if observations == 0:
            return 0.0
        return min(1.0, ewma / (1.0 - (1.0 - self.alpha) ** observations))


def _usable(latency_ms: float | None) -> float | None:
    """A latency we can do arithmetic with: finite, not negative, capped at `MAX_LATENCY_MS`
    so medians of huge values cannot overflow."""
    if latency_ms is None or not math.isfinite(latency_ms) or latency_ms < 0:
        return None
    return min(float(latency_ms), MAX_LATENCY_MS)
