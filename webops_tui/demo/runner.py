"""Running the demo world: the team, the definitions, the fault injector and the summary.

The same code path serves `webops demo --headless` and the workbench's live demo. Time is the
world's clock (`DemoWorld(clock=...)`): real for users, virtual in tests; open the kernel on
the same clock (`Kernel.open(..., clock=world.clock.time)`) so the summary's window and the
audit's timestamps agree.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, Field

from agent.core.autopilot import Autopilot
from agent.core.kernel import Kernel
from agent.ops.incidents import ApprovalPolicy, IncidentView
from webops_tui.demo.faults import REMEDY, RISK, Risk
from webops_tui.demo.world import DemoWorld

TEAM = (("anna", "cautious"), ("ben", "bold"), ("cleo", "friendly"))
#: A broken service nobody is handling is repaired by "a person" after this long.
ESCALATION_S = 10.0
#: What an oracle that knows each fault's remedy spends on one: run it, verify it.
ORACLE_STEPS = 2
RISK_LEVELS: tuple[Risk, ...] = ("low", "medium", "high", "critical")


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
    #: Remedies run on a service that had no fault, by the runbook's risk, and in all.
    mutating_actions_on_healthy: dict[str, int] = Field(default_factory=dict)
    #: Seconds from a fault's injection to its incident opening (detected), and to the team's
    #: fix verified (resolved): p50 and p95.
    detect_s: dict[str, float | None] = Field(default_factory=dict)
    resolve_s: dict[str, float | None] = Field(default_factory=dict)
    #: Mean steps on the last third of the real faults the team fixed: by an oracle that knows
    #: each fault's remedy (run it, verify: 2), by a policy picking remedies at random, and the
    #: team's steps over the oracle's.
    oracle_steps: float | None = None
    random_steps: float | None = None
    steps_vs_oracle_last_third: float | None = None
    #: Mean steps on the real faults whose situation their owner met for the first time (what
    #: recall of similar situations can speed up), and on how many incidents.
    first_seen_steps: float | None = None
    first_seen_incidents: int = 0
    #: Remedies run on a decision whose explanation cites memories (episodes, facts) by id.
    decisions_citing_memory: int = 0
    #: Incidents an owner handed to a teammate clearly better at the remedies (handover.py).
    handovers: int = 0
    #: Incidents a trusted procedure fixed (the owner replayed what it had kept, see
    #: agent/core/remedy.py): in all, and among the last third of the closed incidents.
    procedure_runs: dict[str, int | float] = Field(default_factory=dict)
    #: The lifecycle states the team went through during the run, in the order first seen.
    states_seen: list[str] = Field(default_factory=list)


async def prepare(kernel: Kernel, world: DemoWorld) -> list[str]:
    """Create the team on first run and (re)define the world's targets and runbooks (and only
    its runbooks)."""
    known = {p.name for p in await kernel.list_agents()}
    for name, preset in TEAM:
        if name not in known:
            await kernel.create_agent(name, preset)
    for target in world.targets():
        await kernel.ops.add_target(target, replace=True)
    runbooks = world.runbooks()
    for runbook in runbooks:
        await kernel.ops.add_runbook(runbook, replace=True)
    # The world's runbooks are the only remedies (a run with other names left its own).
    for name in set(kernel.ops.runbooks) - {r.name for r in runbooks}:
        await kernel.ops.remove_runbook(name)
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


def procedure_runs(log: list[IncidentView]) -> dict[str, int | float]:
    """How many incidents a procedure fixed, in all and in the last third of `log` (by id)."""
    last = sorted(log, key=lambda i: i.id)[-(len(log) // 3) :] if len(log) >= 3 else []
    ran = sum(i.procedure_id is not None for i in last)
    return {
        "all": sum(i.procedure_id is not None for i in log),
        "last_third": ran,
        "incidents_last_third": len(last),
        "share_last_third": round(ran / len(last), 3) if last else 0.0,
    }


def _mean(values: list[int]) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


def _percentiles(values: list[float]) -> dict[str, float | None]:
    """p50 and p95 (nearest rank), None with no values."""
    ordered = sorted(values)

    def rank(q: float) -> float | None:
        if not ordered:
            return None
        return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)], 3)

    return {"p50": rank(0.5), "p95": rank(0.95)}


@dataclass
class _Fault:
    """One injected fault and the incident that (maybe) found it."""

    at: float
    target: str
    kind: str
    incident: IncidentView | None = None

    @property
    def fixed_by_team(self) -> bool:
        i = self.incident
        return i is not None and i.status == "resolved" and any(ok for _, ok in i.actions)


def _match(world: DemoWorld, incidents: list[IncidentView], started: float) -> list[_Fault]:
    """Each fault injected in this run, with the first real-fault incident on its target that
    opened after it (the world knows which were real; agents do not)."""
    faults = [_Fault(t, name, kind) for t, name, kind in world.injected if t >= started]
    free = sorted(
        (i for i in incidents if i.kind is not None and i.opened_at is not None),
        key=lambda i: i.id,
    )
    for fault in faults:
        found = next(
            (i for i in free if i.target == fault.target and (i.opened_at or 0) >= fault.at),
            None,
        )
        if found is not None:
            free.remove(found)
            fault.incident = found
    return faults


def _first_seen(log: list[IncidentView]) -> list[IncidentView]:
    """The real-fault incidents whose situation their owner had never handled before."""
    handled: set[tuple[str | None, str]] = set()
    first = []
    for incident in sorted(log, key=lambda i: i.id):
        key = (incident.owner, incident.situation)
        if incident.kind is not None and key not in handled:
            first.append(incident)
        handled.add(key)
    return first


def _random_steps(resolved: list[IncidentView], runbooks: list[str], rng: random.Random) -> int:
    """Steps a policy picking remedies at random (each tried once, verified after) takes on
    these incidents."""
    total = 0
    for incident in resolved:
        right = next(a for a, ok in incident.actions if ok)
        order = rng.sample(runbooks, len(runbooks))
        total += 2 * (order.index(right) + 1) if right in order else 2 * len(order)
    return total


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
    still_open = [
        IncidentView(
            id=i.row.id or 0,
            target=i.row.target,
            kind=autopilot.kinds.get(i.row.id or 0),
            situation=i.row.situation,
            status="failed",
            owner=i.row.owner,
            steps=i.row.steps,
            seconds=None,
            actions=i.tried,
            opened_at=i.row.opened_at,
        )
        for i in autopilot.open.values()
    ]
    faults = _match(world, log + still_open, started)
    detected = [f for f in faults if f.incident is not None]
    fixed = [f for f in detected if f.fixed_by_team]
    # Learning is measured on the real faults the team fixed, in the order they happened.
    team_fixes = sorted((f.incident for f in fixed if f.incident), key=lambda i: i.id)
    third = len(team_fixes) // 3
    first = _mean([i.steps for i in team_fixes[:third]]) if third else None
    last = _mean([i.steps for i in team_fixes[-third:]]) if third else None
    oracle = float(ORACLE_STEPS) if third else None
    runbooks = sorted(kernel.ops.runbooks)
    random_last = (
        round(_random_steps(team_fixes[-third:], runbooks, random.Random(seed)) / third, 3)
        if third
        else None
    )
    entries = [e for e in await kernel.audit_entries(limit=1_000_000) if e.ts >= started]
    risks: Counter[str] = Counter()
    unapproved_high = 0
    autonomous_high = 0
    citing = 0
    for e in entries:
        if e.event != "action":
            continue
        detail = json.loads(e.detail)
        citing += bool(detail.get("memory"))
        risk = detail.get("risk", "none")
        risks[risk] += 1
        granted = bool((detail.get("autonomy") or {}).get("granted"))
        if risk in ("high", "critical"):
            autonomous_high += int(granted and not detail.get("approved"))
            if not detail.get("approved") and not granted:
                unapproved_high += 1
    on_healthy = Counter(
        RISK[a.remedy] for a in world.remedies_applied if a.ts >= started and a.fault is None
    )
    events = Counter(e.event for e in entries)
    resolved = [i for i in log if i.status == "resolved"]
    opened = len(log) + len(autopilot.open)
    first_seen = _first_seen(log)
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
        faults_injected=dict(Counter(f.kind for f in faults)),
        checks=autopilot.checks,
        handovers=len(autopilot.handovers),
        false_incidents=sum(kind is None for kind in autopilot.kinds.values()),
        recovered_by_itself=sum(i.status == "recovered" for i in log),
        real_faults=len(faults),
        real_faults_resolved=len(fixed),
        mutating_actions_on_healthy={
            **{level: on_healthy[level] for level in RISK_LEVELS},
            "total": sum(on_healthy.values()),
        },
        detect_s=_percentiles([(f.incident.opened_at or 0) - f.at for f in detected if f.incident]),
        resolve_s=_percentiles(
            [
                (f.incident.opened_at or 0) + (f.incident.seconds or 0) - f.at
                for f in fixed
                if f.incident
            ]
        ),
        oracle_steps=oracle,
        random_steps=random_last,
        steps_vs_oracle_last_third=round(last / oracle, 3) if last and oracle else None,
        first_seen_steps=_mean([i.steps for i in first_seen]),
        first_seen_incidents=len(first_seen),
        decisions_citing_memory=citing,
        procedure_runs=procedure_runs(log),
        states_seen=autopilot.rest.states_seen,
    )
