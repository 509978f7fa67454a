"""The demo world headless for 60 s: does the team get faster? (steps, not wall time)

The 60 s are the world's, on a virtual clock (agent/clock.py): the services answer and the
agents work in real time, the waits between checks cost nothing. Incidents per minute are per
minute of the world's time.

The recall ablation runs the same worlds twice, with and without recall in decisions
(`KernelConfig.recall_in_decisions`): `demo.first_seen_steps` is the mean steps on incidents
whose situation the owner had never handled before, where memories of similar situations are
all an agent has to go on. Each world has only nine such incidents (one per kind of fault), so
one seed is noise: the ablation pools `ABLATION_SEEDS`, 20 s of the world's time each (enough
to meet every kind of fault).
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


ABLATION_SEEDS = (1, 2, 3, 4, 5, 6)
ABLATION_SECONDS = 20.0


async def _run(recall: bool = True, seed: int = SEED, seconds: float = SECONDS) -> DemoSummary:
    clock = VirtualClock()
    world = DemoWorld(seed, clock=clock)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = KernelConfig(seed=seed, recall_in_decisions=recall)
            path = Path(tmp) / "demo.db"
            async with await Kernel.open(path, config=config, clock=clock.time) as kernel:
                return await run_demo(
                    kernel,
                    world,
                    seed=seed,
                    duration_s=seconds,
                    approve="all",
                    stop=asyncio.Event(),
                )
    finally:
        world.stop()


def _pooled(recall: bool) -> tuple[float, int, int]:
    """Mean first-seen steps over the ablation's worlds, the incidents behind it, and the
    decisions that cited memory."""
    steps, incidents, citing = 0.0, 0, 0
    for seed in ABLATION_SEEDS:
        summary = asyncio.run(_run(recall, seed, ABLATION_SECONDS))
        steps += (summary.first_seen_steps or 0.0) * summary.first_seen_incidents
        incidents += summary.first_seen_incidents
        citing += summary.decisions_citing_memory
    return (steps / incidents if incidents else 99.0), incidents, citing


def _first_seen() -> list[Figure]:
    on, n_on, citing_on = _pooled(recall=True)
    off, n_off, citing_off = _pooled(recall=False)
    reference = (
        f"with recall {on:.2f} steps on {n_on} incidents, without {off:.2f} on {n_off}; "
        f"seeds {ABLATION_SEEDS}, {ABLATION_SECONDS:.0f} s each"
    )
    return [
        Figure("demo.first_seen_steps", on, "steps", f"<= {off:.2f}", reference),
        Figure("demo.first_seen_steps_without_recall", off, "steps", ">= 0", reference),
        Figure("demo.first_seen_steps_ratio_with_vs_without", on / off, "x", "<= 0.99", reference),
        Figure(
            "demo.decisions_citing_memory",
            citing_on,
            "",
            ">= 1",
            f"remedies run on a decision that cites episodes or facts; without recall {citing_off}",
        ),
    ]


def run() -> list[Figure]:
    s = asyncio.run(_run())
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
        *_first_seen(),
    ]
