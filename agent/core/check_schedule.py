"""When each target is checked, and what a finished check counts for.

Checks run on each target's interval; after a failing check that has not yet confirmed a fault,
at the target's shorter retry interval (Uptime Kuma's retry interval), so a fault is confirmed in
seconds rather than intervals. A target has at most one check under way, as a person would look:
a slow answer is not asked again before it arrives. A check that was asked before the target's
latest incident closed describes the fault that was fixed, so it counts for nothing: without
that rule, a slow check in flight while a remedy fixed the service would open a new incident on
a healthy one.

Each target's checks keep a phase of their own, spread over its interval (from a crc32 of its
name, so a restart keeps the spread): with every target due at the first tick, 1,000 targets
fired as one burst and a healthy server timed out under it. First checks come sooner, spread
only as far as `FIRST_CHECKS_PER_S` needs (a few targets are checked at once). Checks are due at
fixed steps from that phase (no drift from when the previous one happened to run), kept in a
heap so a tick looks only at what is due, and run at most `SLOTS` at once. A check waiting for a
slot is late; how late each one starts is measured (`lateness`, agent/core/check_lateness.py).

The autopilot (agent/core/autopilot.py) decides what a counted check means for incidents.
"""

from __future__ import annotations

import asyncio
import heapq
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from agent.clock import SYSTEM, Clock
from agent.core.kernel import Kernel
from agent.events import TargetChecked
from agent.ops.checks import CONCURRENT_CHECKS
from agent.ops.confirmation import Confirmation, Health, Watch, health_of
from agent.ops.targets import TargetSpec
from agent.skills.actions import ActionOutput


@dataclass(frozen=True)
class Checked:
    """A finished check that counts: what it saw, and the target's run of checks after it."""

    output: ActionOutput
    health: Health
    confirmation: Confirmation


#: Checks under way at once (a check waiting for a slot is late).
SLOTS = CONCURRENT_CHECKS
#: How often the schedule looks for targets changed in place.
FOLLOW_S = 1.0
#: First checks per second when many targets start at once: a few targets are all checked at
#: once (a person starting `webops run` on two sites wants to see them now), thousands have
#: their first checks spread over as much of their interval as this rate needs.
FIRST_CHECKS_PER_S = 100.0


def phase(name: str, interval_s: float) -> float:
    """Where in its interval `name` is checked: stable across restarts, spread across names."""
    return zlib.crc32(name.encode()) / 2**32 * interval_s


class CheckSchedule:
    def __init__(self, kernel: Kernel, clock: Clock = SYSTEM, *, wall_slots: bool = False) -> None:
        self.kernel = kernel
        self.clock = clock
        #: Workers sharing targets (agent/core/leases.py) check each target in the same
        #: slots, `phase + k * interval` seconds since the epoch, so that a target handed
        #: from one worker to another is neither checked twice in a slot nor skipped.
        self.wall_slots = wall_slots
        #: How late checks started (due time to start, a wait for a free slot included); the
        #: kernel's, so `/metrics` and `webops status` see it.
        self.lateness = kernel.check_lateness
        #: Each target's run of failing/passing checks (agent/ops/confirmation.py).
        self.watch = Watch()
        #: Checks finished (counted or not).
        self.checks = 0
        #: Each target's next due time (monotonic), and the heap of (due, name) to pop from;
        #: heap entries that no longer match `_next` are stale and skipped.
        self._next: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._intervals: dict[str, tuple[float, float]] = {}
        #: When each target's first check was due: the rest are due at this + k intervals.
        self._anchor: dict[str, float] = {}
        self._specs: dict[str, TargetSpec] = {}
        self._known: tuple[int, int] = (0, -1)
        self._followed = 0.0
        #: When the check under way of each target was due.
        self._due: dict[str, float] = {}
        self._slots = asyncio.Semaphore(SLOTS)
        #: Targets whose latest check failed with no fault confirmed yet: re-checked sooner.
        self._suspect: set[str] = set()
        self._checking: set[str] = set()
        #: How many incidents each target has closed: a check asked before the latest did not
        #: see the target as it is now.
        self._closings: Counter[str] = Counter()

    def due(self, now: float, targets: Mapping[str, TargetSpec]) -> list[str]:
        """The targets due by `now` (monotonic), each at most once; those already being
        checked skip this turn."""
        self._follow(now, targets)
        names = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            due, name = heapq.heappop(heap)
            if self._next.get(name) != due or name not in targets:
                continue
            interval, retry = self._intervals[name]
            if name in self._suspect:
                after = max(due + retry, now)
            else:  # the next step of its phase; one fallen behind skips, never catches up
                anchor = self._anchor[name]
                after = anchor + ((max(due, now) - anchor) // interval + 1) * interval
            self._push(name, after)
            if name not in self._checking:
                self._due[name] = due
                names.append(name)
        return names

    def _push(self, name: str, due: float) -> None:
        self._next[name] = due
        heapq.heappush(self._heap, (due, name))

    def _follow(self, now: float, targets: Mapping[str, TargetSpec]) -> None:
        """Take up added, removed and changed targets: at once when the definitions were
        reloaded, else once a second (a change made in place; a scan of 5,000 every tick is
        not free)."""
        known = (id(targets), len(targets))
        if known == self._known and now - self._followed < FOLLOW_S:
            return
        self._known, self._followed = known, now
        specs = self._specs
        new = [name for name in targets if name not in specs]
        ramp = len(new) / FIRST_CHECKS_PER_S
        for name, spec in targets.items():
            if specs.get(name) is spec:
                continue
            specs[name] = spec
            every = (spec.interval_s, spec.retry_s)
            if self._intervals.get(name) != every:
                self._intervals[name] = every
                spread = min(1.0, ramp / spec.interval_s)
                if self.wall_slots:
                    since = self.clock.time() - phase(name, spec.interval_s)
                    first = now + (-since) % spec.interval_s
                else:
                    first = now + phase(name, spec.interval_s) * spread
                self._anchor[name] = first
                self._push(name, first)
        if len(specs) != len(targets):
            for name in set(specs) - set(targets):
                del specs[name], self._intervals[name], self._anchor[name]
                self._next.pop(name, None)

    async def check(self, target: str, *, incident_open: bool) -> Checked | None:
        """Check `target` once; None when the check no longer counts (see above)."""
        self._checking.add(target)
        try:
            async with self._slots:
                due = self._due.pop(target, None)
                if due is not None:
                    self.lateness.observe(self.clock.monotonic() - due)
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
            if target not in self._suspect and spec is not None:
                self._suspect.add(target)
                retry = self.clock.monotonic() + spec.retry_s
                if retry < self._next.get(target, retry + 1):
                    self._push(target, retry)
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
