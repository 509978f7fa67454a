"""Confirmation: a fault is a run of failing checks, not one failing check.

One slow answer or one refused connection happens to healthy services all the time (a GC
pause, a busy neighbour, a dropped packet). Acting on it means running remedies on services
that need none, and crediting whatever ran with a fix that never happened. So, like Gatus's
`failure-threshold` and `success-threshold`, an incident opens only after N consecutive
failing checks and is resolved only after M consecutive passing ones.

A failing check is either **down** (the check failed: refused, timed out, wrong status) or
**degraded** (the service answered correctly but slowly: only its latency conditions failed, or
it passed them all but a sustained latency anomaly says it is slow). A confirmed fault is down
when any check of the run was down, else degraded.

Pure: no clock, no I/O; the autopilot feeds one `Health` per check, in order, with its time.
The `Watch` also keeps the failing checks of each target's current run (`FailingCheck`, at most
`MAX_EVIDENCE`): what an incident stores as the evidence that confirmed it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from agent.skills.actions import ActionOutput

if TYPE_CHECKING:
    from agent.ops.targets import TargetSpec

__all__ = ["Confirmation", "FailingCheck", "Fault", "Health", "Verdict", "Watch", "health_of"]

#: How one check found a target.
Health = Literal["up", "degraded", "down"]
#: How a confirmed fault shows: answering but slow or partial, or not answering properly.
Fault = Literal["degraded", "down"]
#: What a run of checks says: a fault is now confirmed (`open`), a recovery is (`resolve`).
Verdict = Literal["open", "resolve"]
#: The most failing checks kept per target as evidence (a run confirms at its threshold).
MAX_EVIDENCE = 5


def health_of(output: ActionOutput) -> Health:
    """One check's result as up, degraded or down: degraded when the service answered
    correctly but slowly (a sustained latency anomaly, or only its latency conditions
    failed), down when it did not answer or answered wrongly."""
    if not output.ok:
        failed = [c for c in output.data.get("conditions", ()) if not c.get("ok")]
        slow_only = failed and all(_on_latency(c) for c in failed)
        return "degraded" if output.data.get("answered") and slow_only else "down"
    if output.data.get("slow"):
        return "degraded"
    return "up"


def _on_latency(condition: dict[str, object]) -> bool:
    return str(condition.get("condition", "")).split(" ", 1)[0] == "latency_ms"


@dataclass
class Confirmation:
    """Consecutive failing and passing checks of one target, and what they confirm."""

    failure_threshold: int = 2
    success_threshold: int = 1
    #: Consecutive checks that were not up (degraded or down), ending with the latest.
    failing: int = 0
    #: Consecutive checks that were up, ending with the latest.
    passing: int = 0
    #: Whether any check of the current failing run was down.
    any_down: bool = False

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.success_threshold < 1:
            raise ValueError("thresholds must be at least 1")

    def observe(self, health: Health) -> None:
        """Count one check."""
        if health == "up":
            self.passing += 1
            self.failing = 0
            self.any_down = False
        else:
            self.failing += 1
            self.passing = 0
            self.any_down = self.any_down or health == "down"

    @property
    def confirmed(self) -> bool:
        """The latest `failure_threshold` checks all failed: a fault, not a blip."""
        return self.failing >= self.failure_threshold

    @property
    def recovered(self) -> bool:
        """The latest `success_threshold` checks all passed."""
        return self.passing >= self.success_threshold

    @property
    def fault(self) -> Fault:
        """How the current failing run shows (meaningful while `failing` > 0)."""
        return "down" if self.any_down else "degraded"

    def verdict(self, incident_open: bool) -> Verdict | None:
        """With an incident open: `resolve` once recovered; without one: `open` once
        confirmed; otherwise nothing to do yet."""
        if incident_open:
            return "resolve" if self.recovered else None
        return "open" if self.confirmed else None


class FailingCheck(BaseModel):
    """One check that found the target degraded or down: part of the evidence for a fault."""

    ts: float
    health: Fault
    detail: str = ""
    latency_ms: float | None = None


class Watch:
    """Every target's `Confirmation` (with its current thresholds) and when its latest
    failing check was: what confirms a fault just before a remedy (agent/core/remedy.py)."""

    def __init__(self) -> None:
        self._runs: dict[str, Confirmation] = {}
        self._failing_at: dict[str, float] = {}
        self._failing: dict[str, deque[FailingCheck]] = {}

    def observe(
        self,
        target: TargetSpec | str,
        health: Health,
        at: float,
        *,
        detail: str = "",
        latency_ms: float | None = None,
    ) -> Confirmation:
        """Count one check of `target` (a spec carries its thresholds) made at `at`; a failing
        one (with its `detail` and `latency_ms`) joins the evidence of the current run."""
        name = target if isinstance(target, str) else target.name
        run = self._runs.get(name)
        if run is None:
            run = self._runs[name] = Confirmation()
        if not isinstance(target, str):
            run.failure_threshold = target.failure_threshold
            run.success_threshold = target.success_threshold
        run.observe(health)
        if health == "up":
            self._failing.pop(name, None)
        else:
            self._failing_at[name] = at
            keep = max(1, min(run.failure_threshold, MAX_EVIDENCE))
            checks = self._failing.get(name)
            if checks is None or checks.maxlen != keep:
                checks = self._failing[name] = deque(checks or (), maxlen=keep)
            checks.append(FailingCheck(ts=at, health=health, detail=detail, latency_ms=latency_ms))
        return run

    def evidence(self, target: str) -> list[FailingCheck]:
        """The failing checks of the target's current run, oldest first (the latest
        `failure_threshold` of them, at most `MAX_EVIDENCE`): what confirmed its fault."""
        return list(self._failing.get(target, ()))

    def failing_at(self, target: str) -> float | None:
        """When the target's latest failing check was, if it had one."""
        return self._failing_at.get(target)

    def confirmed_before(self, target: str, at: float | None, within_s: float) -> bool:
        """A failing check confirmed the fault at most `within_s` before `at` (or after it)."""
        failing_at = self._failing_at.get(target)
        return failing_at is not None and at is not None and at - failing_at <= within_s

    def forget_run(self, target: str) -> None:
        """After an incident closes: a new one needs a new run of failing checks."""
        self._runs.pop(target, None)
        self._failing.pop(target, None)
