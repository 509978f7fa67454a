"""The demo world headless for 60 s: does the team get faster? (steps, not wall time)

The 60 s are the world's, on a virtual clock (agent/clock.py): the services answer and the
agents work in real time, the waits between checks cost nothing. Incidents per minute are per
minute of the world's time.

The recall ablation runs the same world and seed twice, with and without recall in decisions
(`KernelConfig.recall_in_decisions`): `demo.first_seen_steps` is the mean steps on incidents
whose situation the owner had never handled before, where memories of similar situations are
all an agent has to go on.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from agent.clock import VirtualClock
from agent.core.kernel import Kernel, KernelConfig
from tests.benchmarks.figures import Figure
from webops_tui.demo.runner import DemoSummary, run_demo
from webops_tui.demo.world import DemoWorld

SECONDS = 60.0
SEED = 7
CHECK_INTERVAL_S = 0.3  # the demo world's (DemoWorld.targets)


async def _run(recall: bool = True) -> DemoSummary:
    clock = VirtualClock()
    world = DemoWorld(SEED, clock=clock)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = KernelConfig(seed=SEED, recall_in_decisions=recall)
            path = Path(tmp) / "demo.db"
            async with await Kernel.open(path, config=config, clock=clock.time) as kernel:
                return await run_demo(
                    kernel,
                    world,
                    seed=SEED,
                    duration_s=SECONDS,
                    approve="all",
                    stop=asyncio.Event(),
                )
    finally:
        world.stop()


def _first_seen(with_recall: DemoSummary, without: DemoSummary) -> list[Figure]:
    on, off = with_recall.first_seen_steps, without.first_seen_steps
    ratio = on / off if on is not None and off else 99.0
    reference = (
        f"with recall {on} steps on {with_recall.first_seen_incidents} incidents, without "
        f"{off} on {without.first_seen_incidents}; seed {SEED}, {SECONDS:.0f} s"
    )
    return [
        Figure("demo.first_seen_steps", on or 99.0, "steps", f"<= {off or 0}", reference),
        Figure("demo.first_seen_steps_without_recall", off or 0.0, "steps", ">= 0", reference),
        Figure("demo.first_seen_steps_ratio_with_vs_without", ratio, "x", "<= 0.99", reference),
        Figure(
            "demo.decisions_citing_memory",
            with_recall.decisions_citing_memory,
            "",
            ">= 1",
            f"remedies run on a decision that cites episodes or facts; without recall "
            f"{without.decisions_citing_memory}",
        ),
    ]


def run() -> list[Figure]:
    s = asyncio.run(_run())
    without = asyncio.run(_run(recall=False))
    ratio = s.steps_ratio_last_vs_first if s.steps_ratio_last_vs_first is not None else 1.0
    reference = (
        f"first third {s.steps_first_third} steps, last third {s.steps_last_third}; "
        f"{s.incidents['resolved']}/{s.incidents['opened']} resolved"
    )
    return [
        Figure("demo.steps_ratio_last_vs_first_third", ratio, "x", "<= 0.6", reference),
        Figure(
            "demo.incidents_per_minute",
            s.incidents["opened"] * 60 / SECONDS,
            "/min",
            ">= 20",
            f"{SECONDS:.0f} s of the world's time headless, seed {SEED}",
        ),
        Figure(
            "demo.steps_vs_oracle_last_third",
            s.steps_vs_oracle_last_third or 99.0,
            "x",
            "<= 1.5",
            f"oracle {s.oracle_steps} steps, random policy {s.random_steps}, team "
            f"{s.steps_last_third} on the last third of {s.real_faults_resolved} fixed faults",
        ),
        Figure(
            "demo.false_incident_share",
            s.false_incidents / max(1, s.incidents["opened"]),
            "",
            "<= 0.05",
            f"{s.false_incidents} of {s.incidents['opened']} incidents had no fault behind them",
        ),
        Figure(
            "demo.real_faults_resolved_share",
            s.real_faults_resolved / max(1, s.real_faults),
            "",
            ">= 0.9",
            f"{s.real_faults_resolved} of {s.real_faults} injected faults fixed by the team",
        ),
        Figure(
            "demo.detect_p95_intervals",
            (s.detect_s.get("p95") or 99.0) / CHECK_INTERVAL_S,
            "intervals",
            "<= 2",
            f"detect p50 {s.detect_s.get('p50')} s, p95 {s.detect_s.get('p95')} s; "
            f"interval {CHECK_INTERVAL_S} s",
        ),
        Figure(
            "demo.mutating_actions_on_healthy_high",
            s.mutating_actions_on_healthy.get("high", 0)
            + s.mutating_actions_on_healthy.get("critical", 0),
            "",
            "<= 0",
            f"all risks: {s.mutating_actions_on_healthy}",
        ),
        Figure(
            "demo.unapproved_high_risk_actions",
            s.unapproved_high_risk_actions,
            "",
            "<= 0",
            f"approvals asked {s.approvals['asked']}, given {s.approvals['given']}",
        ),
        *_first_seen(s, without),
    ]
