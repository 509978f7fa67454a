"""Confirmation: a fault is a run of failing checks, not one failing check.

One slow answer or one refused connection happens to healthy services all the time (a GC
pause, a busy neighbour, a dropped packet). Acting on it means running remedies on services
that need none, and crediting whatever ran with a fix that never happened. So, like Gatus's
`failure-threshold` and `success-threshold`, an incident opens only after N consecutive
failing checks and is resolved only after M consecutive passing ones.

A failing check is either **down** (the check failed: refused, timed out, wrong status) or
**degraded** (the service answered and passed its conditions, but a sustained latency anomaly
says it is slow). A confirmed fault is down when any check of the run was down, else degraded.

Pure: no clock, no I/O; the autopilot feeds one `Health` per check, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agent.skills.actions import ActionOutput

__all__ = ["Confirmation", "Fault", "Health", "Verdict", "health_of"]

#: How one check found a target.
Health = Literal["up", "degraded", "down"]
#: How a confirmed fault shows: answering but slow or partial, or not answering properly.
Fault = Literal["degraded", "down"]
#: What a run of checks says: a fault is now confirmed (`open`), a recovery is (`resolve`).
Verdict = Literal["open", "resolve"]


def health_of(output: ActionOutput) -> Health:
    """One check's result as up, degraded (healthy but slow) or down."""
    if not output.ok:
        return "down"
    if output.data.get("slow"):
        return "degraded"
    return "up"


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
