"""Latency and error-rate baselines: slowness is relative to each target's own history."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.ops.anomaly import Anomaly, Baseline


def steady(median: float, n: int = 60, spread: float = 0.05, seed: int = 1) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(x) for x in median * (1 + spread * rng.standard_normal(n))]


def baseline_of(latencies: list[float], **options: float) -> Baseline:
    return Baseline(**options).replay([(x, True) for x in latencies])  # type: ignore[arg-type]


def test_a_slow_sample_among_steady_ones_is_flagged() -> None:
    baseline = baseline_of(steady(120))
    anomaly = baseline.assess(480, True)
    assert anomaly.slow
    assert not anomaly.error_burst
    assert anomaly.anomalous
    assert anomaly.score > 5
    assert anomaly.median_ms == pytest.approx(120, rel=0.05)
    assert anomaly.samples == 60
    assert anomaly.reason.startswith("latency 480 ms is ")
    assert "robust SDs above the median 1" in anomaly.reason


def test_normal_latency_is_not_flagged() -> None:
    anomaly = baseline_of(steady(120)).assess(125, True)
    assert not anomaly.slow and not anomaly.anomalous
    assert abs(anomaly.score) < 2
    assert anomaly.reason.startswith("normal: latency 125 ms is ")


def test_slowness_is_learned_per_target() -> None:
    fast = baseline_of(steady(120))
    slow = baseline_of(steady(450, seed=2))
    assert fast.assess(480, True).slow
    assert not slow.assess(480, True).slow


def test_not_flagged_before_min_samples() -> None:
    baseline = baseline_of(steady(120, n=19))
    anomaly = baseline.assess(5000, True)
    assert not anomaly.slow
    assert anomaly.score > 5
    assert "only 19 of 20 samples" in anomaly.reason
    baseline.add(120, True)
    assert baseline.assess(5000, True).slow


def test_only_healthy_latencies_join_the_baseline() -> None:
    baseline = baseline_of(steady(120, n=30))
    for _ in range(10):
        baseline.add(9000, False)
        baseline.add(None, False)
    assert len(baseline) == 30
    assert baseline.observations == 50


def test_constant_samples_use_the_mad_floor() -> None:
    baseline = baseline_of([100.0] * 30)
    same = baseline.assess(100, True)
    assert (same.score, same.slow, same.mad_ms) == (0.0, False, 2.0)  # 2 % of the median
    assert baseline.assess(101, True).score == pytest.approx(1 / (1.4826 * 2))
    assert baseline.assess(120, True).slow
    tiny = baseline_of([0.2] * 30)
    assert tiny.assess(0.2, True).mad_ms == 1.0  # the 1 ms floor


def test_window_keeps_the_latest_samples() -> None:
    baseline = Baseline(window=5)
    for x in range(1, 9):
        baseline.add(float(x), True)
    assert baseline.samples.tolist() == [4.0, 5.0, 6.0, 7.0, 8.0]
    copy = baseline.samples
    copy[:] = 0
    assert baseline.samples.tolist() == [4.0, 5.0, 6.0, 7.0, 8.0]


def test_a_baseline_adapts_to_a_new_normal() -> None:
    baseline = baseline_of(steady(100, n=200))
    assert baseline.assess(400, True).slow
    for x in steady(400, n=150, seed=3):
        baseline.add(x, True)
    assert not baseline.assess(400, True).slow


def test_error_burst() -> None:
    baseline = baseline_of(steady(120, n=100))
    assert baseline.error_rate == 0.0
    anomalies = [baseline.observe(None, False) for _ in range(10)]
    bursts = [a.error_burst for a in anomalies]
    assert not bursts[0]
    assert bursts[-1]
    first = bursts.index(True)
    assert 0.5 < anomalies[first].error_rate < anomalies[-1].error_rate
    assert all(bursts[first:])
    assert "error rate" in anomalies[-1].reason
    assert not anomalies[-1].slow


def test_error_burst_needs_five_observations_and_forgets() -> None:
    baseline = Baseline()
    early = [baseline.observe(None, False) for _ in range(5)]
    assert [a.error_burst for a in early] == [False, False, False, False, True]
    assert early[-1].error_rate == pytest.approx(1.0)
    for _ in range(30):
        baseline.add(100, True)
    assert not baseline.assess(100, True).error_burst
    assert baseline.error_rate < 0.1


def test_one_early_error_is_not_a_burst() -> None:
    baseline = Baseline()
    baseline.add(None, False)
    for _ in range(3):
        baseline.add(100, True)
    anomaly = baseline.assess(100, True)
    assert not anomaly.error_burst
    assert anomaly.error_rate < 0.3


def test_assess_does_not_change_the_baseline() -> None:
    baseline = baseline_of(steady(120, n=25))
    before = (baseline.samples.tolist(), baseline.error_rate, baseline.observations)
    baseline.assess(9000, False)
    assert (baseline.samples.tolist(), baseline.error_rate, baseline.observations) == before


def test_empty_baseline() -> None:
    anomaly = Baseline().assess(None, True)
    assert anomaly == Anomaly(
        slow=False,
        error_burst=False,
        score=0.0,
        median_ms=None,
        mad_ms=None,
        error_rate=0.0,
        reason="",
        samples=0,
    )
    assert "no baseline yet" in Baseline().assess(50, True).reason


@given(
    st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), max_size=80),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    st.booleans(),
)
def test_score_is_finite_for_any_latencies(
    history: list[float], latency: float | None, healthy: bool
) -> None:
    baseline = baseline_of(history, window=50)
    anomaly = baseline.assess(latency, healthy)
    assert math.isfinite(anomaly.score)
    assert 0.0 <= anomaly.error_rate <= 1.0
    assert anomaly.mad_ms is None or anomaly.mad_ms >= 1.0
    assert len(baseline) == min(len(history), 50)


@given(st.floats(min_value=0, max_value=1e9), st.integers(1, 60), st.floats(0, 1e9))
def test_constant_samples_never_crash(value: float, n: int, latency: float) -> None:
    anomaly = baseline_of([value] * n).assess(latency, True)
    assert math.isfinite(anomaly.score)
    assert anomaly.median_ms == value
