"""When each target is checked, and what a finished check counts for.

Checks run on each target's interval; after a failing check that has not yet confirmed a fault,
at the target's shorter retry interval (Uptime Kuma's retry interval), so a fault is confirmed in
seconds rather than intervals. A target has at most one check under way, as a person would look:
a slow answer is not asked again before it arrives. A check that was asked before the target's
latest incident closed describes the fault that was fixed, so it counts for nothing: without
that rule, a slow check in flight while a remedy fixed the service would open a new incident on
a healthy one.

The autopilot (agent/core/autopilot.py) decides what a counted check means for incidents.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from agent.core.kernel import Kernel
from agent.events import TargetChecked
from agent.ops.confirmation import Confirmation, Health, Watch, health_of
from agent.ops.targets import TargetSpec
from agent.skills.actions import ActionOutput


@dataclass(frozen=True)
class Checked:
    """A finished check that counts: what it saw, and the target's run of checks after it."""

    output: ActionOutput
    health: Health
    confirmation: Confirmation


class CheckSchedule:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        #: Each target's run of failing/passing checks (agent/ops/confirmation.py).
        self.watch = Watch()
        #: Checks finished (counted or not).
        self.checks = 0
        self._last: dict[str, float] = {}
        #: Targets whose latest check failed with no fault confirmed yet: re-checked sooner.
        self._suspect: set[str] = set()
        self._checking: set[str] = set()
        #: How many incidents each target has closed: a check asked before the latest did not
        #: see the target as it is now.
        self._closings: Counter[str] = Counter()

    def due(self, now: float, targets: Iterable[TargetSpec]) -> list[str]:
        """The targets to check now (monotonic `now`); they count as checked from now."""
        names = []
        for target in targets:
            name = target.name
            every = target.retry_s if name in self._suspect else target.interval_s
            if name not in self._checking and now - self._last.get(name, -1e9) >= every:
                self._last[name] = now
                names.append(name)
        return names

    async def check(self, target: str, *, incident_open: bool) -> Checked | None:
        """Check `target` once; None when the check no longer counts (see above)."""
        self._checking.add(target)
        try:
            return await self._check(target, incident_open)
        finally:
            self._checking.discard(target)

    async def _check(self, target: str, incident_open: bool) -> Checked | None:
        kernel = self.kernel
        request = kernel.ops.check_request(target)
        handler = kernel.actions.handler(request.action)
        closings = self._closings[target]
        output = await handler(request)
        self.checks += 1
        if closings != self._closings[target]:
            return None
        health = health_of(output)
        latency_ms = output.data.get("latency_ms")
        spec = kernel.ops.targets.get(target)
        confirmation = self.watch.observe(
            spec or target, health, kernel.clock(), detail=output.detail, latency_ms=latency_ms
        )
        if health != "up" and not incident_open and not confirmation.confirmed:
            self._suspect.add(target)
        else:
            self._suspect.discard(target)
        if kernel.bus.active:
            held = await kernel.silences.covering(target)
            kernel.bus.publish(
                TargetChecked(
                    target=target,
                    healthy=output.ok,
                    latency_ms=latency_ms,
                    detail=output.detail,
                    health=health,
                    maintenance=held.says() if held else None,
                    ts=kernel.clock(),
                )
            )
        return Checked(output, health, confirmation)

    def closed(self, target: str) -> None:
        """An incident on `target` closed: a new one needs a new run of failing checks, made
        from now on."""
        self.watch.forget_run(target)
        self._closings[target] += 1
