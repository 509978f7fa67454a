"""Running the demo world: the team, the definitions, the fault injector and the summary.

The same code path serves `webops demo --headless` and the workbench's live demo. Time is the
world's clock (`DemoWorld(clock=...)`): real for users, virtual in tests; open the kernel on
the same clock (`Kernel.open(..., clock=world.clock.time)`) so the summary's window and the
audit's timestamps agree.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
from collections import Counter
from collections.abc import Callable

from pydantic import BaseModel

from agent.core.autopilot import Autopilot
from agent.core.kernel import Kernel
from agent.ops.incidents import ApprovalPolicy, IncidentView
from webops_tui.demo.world import REMEDY, DemoWorld

TEAM = (("anna", "cautious"), ("ben", "bold"), ("cleo", "friendly"))
#: A broken service nobody is handling is repaired by "a person" after this long.
ESCALATION_S = 10.0


class DemoSummary(BaseModel):
    seed: int
    duration_s: float
    approve: ApprovalPolicy
    incidents: dict[str, int]
    resolution_rate: float
    incident_log: list[IncidentView]
    steps_first_third: float | None
    steps_last_third: float | None
    steps_ratio_last_vs_first: float | None
    actions_by_risk: dict[str, int]
    approvals: dict[str, int]
    unapproved_high_risk_actions: int
    faults_injected: dict[str, int]
    checks: int
    #: Incidents opened with no injected fault behind them (the world knows; agents do not).
    false_incidents: int = 0
    #: Incidents closed because the target was healthy again before any remedy ran.
    recovered_by_itself: int = 0
    #: Faults the world injected, and how many of them the team's remedies fixed.
    real_faults: int = 0
    real_faults_resolved: int = 0


async def prepare(kernel: Kernel, world: DemoWorld) -> list[str]:
    """Create the team on first run and (re)define the world's targets and runbooks."""
    known = {p.name for p in await kernel.list_agents()}
    for name, preset in TEAM:
        if name not in known:
            await kernel.create_agent(name, preset)
    for target in world.targets():
        await kernel.ops.add_target(target, replace=True)
    for runbook in world.runbooks():
        await kernel.ops.add_runbook(runbook, replace=True)
    return [name for name, _ in TEAM]


async def inject_faults(
    world: DemoWorld, autopilot: Autopilot, stop: asyncio.Event, gap_s: float = 0.4
) -> None:
    """One fault at a time: break something once everything is healthy and quiet again.

    A fault nobody handles for `ESCALATION_S` is repaired by "a person" (the right remedy).
    """
    clock = world.clock
    with clock.taking_part():
        await _inject_faults(world, autopilot, stop, gap_s)


async def _inject_faults(
    world: DemoWorld, autopilot: Autopilot, stop: asyncio.Event, gap_s: float
) -> None:
    clock = world.clock
    broken_since: dict[str, float] = {}
    while not stop.is_set():
        await clock.wait(stop, gap_s)
        if stop.is_set():
            return
        unhealthy = [n for n in [*world.services, "cdn"] if world.fault_of(n) is not None]
        now = clock.monotonic()
        for name in unhealthy:
            since = broken_since.setdefault(name, now)
            if name not in autopilot.open and now - since > ESCALATION_S:
                fault = world.fault_of(name)
                assert fault is not None
                world.apply(name, REMEDY[fault])  # a person stepped in
        broken_since = {n: t for n, t in broken_since.items() if n in unhealthy}
        if not unhealthy and not autopilot.open:
            world.inject()


async def run_demo(
    kernel: Kernel,
    world: DemoWorld,
    *,
    seed: int,
    duration_s: float | None,
    approve: ApprovalPolicy,
    stop: asyncio.Event,
    say: Callable[[str], None] = lambda _line: None,
    approve_delay_s: float = 1.0,
) -> DemoSummary:
    started = world.clock.time()
    team = await prepare(kernel, world)
    autopilot = Autopilot(
        kernel,
        team=team,
        approval_policy=approve,
        approve_delay_s=approve_delay_s,
        rng=random.Random(seed),
        describe=world.fault_of,
        on_event=say,
        clock=world.clock,
    )
    kernel_autopilot = asyncio.create_task(autopilot.run(stop, duration_s))
    injector = asyncio.create_task(inject_faults(world, autopilot, stop))
    try:
        await kernel_autopilot
    finally:
        stop.set()
        await injector
    return await summarise(kernel, autopilot, world, seed=seed, approve=approve, started=started)


def _mean(values: list[int]) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


async def summarise(
    kernel: Kernel,
    autopilot: Autopilot,
    world: DemoWorld,
    *,
    seed: int,
    approve: ApprovalPolicy,
    started: float,
) -> DemoSummary:
    log = sorted(autopilot.closed, key=lambda i: i.id)
    resolved = [i for i in log if i.status == "resolved"]
    third = len(resolved) // 3
    first = _mean([i.steps for i in resolved[:third]]) if third else None
    last = _mean([i.steps for i in resolved[-third:]]) if third else None
    entries = [e for e in await kernel.audit_entries(limit=1_000_000) if e.ts >= started]
    risks: Counter[str] = Counter()
    unapproved_high = 0
    autonomous_high = 0
    for e in entries:
        if e.event != "action":
            continue
        detail = json.loads(e.detail)
        risk = detail.get("risk", "none")
        risks[risk] += 1
        granted = bool((detail.get("autonomy") or {}).get("granted"))
        if risk in ("high", "critical"):
            autonomous_high += int(granted and not detail.get("approved"))
            if not detail.get("approved") and not granted:
                unapproved_high += 1
    events = Counter(e.event for e in entries)
    opened = len(log) + len(autopilot.open)
    return DemoSummary(
        seed=seed,
        duration_s=round(world.clock.time() - started, 2),
        approve=approve,
        incidents={
            "opened": opened,
            "resolved": len(resolved),
            "failed": sum(i.status == "failed" for i in log),
            "open": len(autopilot.open),
        },
        resolution_rate=round(len(resolved) / opened, 3) if opened else 0.0,
        incident_log=log,
        steps_first_third=first,
        steps_last_third=last,
        steps_ratio_last_vs_first=round(last / first, 3) if first and last else None,
        actions_by_risk=dict(sorted(risks.items())),
        approvals={
            "asked": events["approval_requested"],
            "given": events["approved"],
            "denied": events["denied"],
            "autonomous_high_risk": autonomous_high,
        },
        unapproved_high_risk_actions=unapproved_high,
        faults_injected=dict(Counter(kind for _t, _n, kind in world.injected)),
        checks=autopilot.checks,
        false_incidents=sum(kind is None for kind in autopilot.kinds.values()),
        recovered_by_itself=sum(i.status == "recovered" for i in log),
        real_faults=len(world.injected),
        real_faults_resolved=min(len(world.injected), sum(i.kind is not None for i in resolved)),
    )
