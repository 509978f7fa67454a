"""Memory that acts: procedures earned by incidents run by themselves, and agents learn and rest
on the autonomous loop's schedule (reflect, then consolidate: compress, cap, optimise)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.clock import VirtualClock
from agent.core.kernel import Kernel, KernelConfig
from agent.core.resources import ResourceLimits
from agent.events import Consolidated, KernelEvent, StateChanged
from agent.memory.procedures import Procedure, Step, fixing_step, optimize, reinforce
from tests.conftest import CliRunner
from webops_tui.demo.runner import DemoSummary, run_demo
from webops_tui.demo.world import TEST_SLOWNESS, DemoWorld

pytestmark = pytest.mark.both_backends


async def _demo(
    db_path: Path, seconds: float, config: KernelConfig, heard: list[KernelEvent]
) -> DemoSummary:
    """The demo world for `seconds` of virtual time, every kernel event kept in `heard`."""
    clock = VirtualClock()
    world = DemoWorld(config.seed, clock=clock, slowness=TEST_SLOWNESS)
    try:
        async with await Kernel.open(db_path, config=config, clock=clock.time) as kernel:
            kernel.bus.subscribe(heard.append)
            return await run_demo(
                kernel,
                world,
                seed=config.seed,
                duration_s=seconds,
                approve="all",
                stop=asyncio.Event(),
            )
    finally:
        world.stop()


@pytest.mark.sqlite_only  # long; its storage paths run on PostgreSQL in shorter tests
async def test_the_demo_team_learns_rests_and_lets_procedures_handle_incidents(
    db_path: Path, cli: CliRunner
) -> None:
    heard: list[KernelEvent] = []
    summary = await _demo(db_path, 30.0, KernelConfig(seed=7), heard)
    assert summary.states_seen[:1] == ["active"]
    assert {"learning", "resting"} <= set(summary.states_seen), summary.states_seen
    moves = [(e.agent, e.old, e.new) for e in heard if isinstance(e, StateChanged)]
    # Every rest goes active -> learning -> resting -> active, and the loop did it repeatedly.
    rests = [m for m in moves if m[1:] == ("learning", "resting")]
    assert len(rests) >= 3, moves
    assert all((a, "resting", "active") in moves for a, _, _ in rests)
    # Procedures distilled from incidents and reinforced by later ones ran by themselves.
    runs = summary.procedure_runs
    assert runs["last_third"] >= 0.2 * runs["incidents_last_third"] > 0, runs
    handled = [i for i in summary.incident_log if i.procedure_id is not None]
    assert handled and all(i.status == "resolved" for i in handled)
    # (The figures of issue 15, with rest on the same loop: tests/test_demo_world.py.)

    owner = max({i.owner for i in handled}, key=lambda n: sum(i.owner == n for i in handled))
    assert owner is not None
    shown = await asyncio.to_thread(cli, "memory", owner, "--kind", "procedural", "--json")
    assert shown.code == 0
    procedures = {p["id"]: p for p in shown.json()}
    ran = {i.procedure_id for i in handled if i.owner == owner}
    assert ran <= set(procedures)
    for procedure_id in ran:
        one = await asyncio.to_thread(
            cli, "memory", owner, "--kind", "procedural", "--id", str(procedure_id), "--json"
        )
        details = one.json()["details"]
        assert details["successes"] >= 3 and " ok / " in procedures[procedure_id]["summary"]
        if details["parent_id"] is not None:  # optimised at rest: what it dropped, and why
            assert all("never fixed it" in why for why in details["dropped"])
    status = await asyncio.to_thread(cli, "status", owner, "--json")
    assert status.code == 0
    body = status.json()
    assert body["resources"]["episodes"] == body["memory"]["episodic"] > 0


@pytest.mark.sqlite_only  # long; its storage paths run on PostgreSQL in shorter tests
async def test_rest_on_the_loop_keeps_episodes_within_the_retention_cap(db_path: Path) -> None:
    cap = 100
    heard: list[KernelEvent] = []
    config = KernelConfig(seed=7, limits=ResourceLimits(max_episodes=cap))
    await _demo(db_path, 20.0, config, heard)
    rests = [e for e in heard if isinstance(e, Consolidated)]
    trimmed = [e for e in rests if e.trimmed > 0]
    assert trimmed, [(e.agent, e.episodes, e.trimmed) for e in rests]
    # The agent had more than the cap, and after each rest it kept no more than the cap.
    assert all(e.episodes <= cap < e.episodes + e.trimmed for e in trimmed)
    assert all(e.episodes <= cap for e in rests)


_steps = st.lists(
    st.builds(
        Step,
        action=st.sampled_from(["a", "b", "c", "d"]),
        runs=st.integers(0, 5),
        fixes=st.integers(0, 5),
    ).filter(lambda s: s.fixes <= s.runs),
    min_size=1,
    max_size=5,
    unique_by=lambda s: s.action,
)


@given(_steps)
def test_optimising_keeps_every_step_that_fixed_something_and_never_empties(
    steps: list[Step],
) -> None:
    procedure = Procedure("x", steps, id=1, successes=3, failures=1)
    better = optimize(procedure)
    if better is None:
        return
    kept = {s.action for s in better.steps}
    assert better.steps and kept <= {s.action for s in steps}
    assert {s.action for s in steps if s.fixes > 0} <= kept
    assert (better.successes, better.failures, better.parent_id) == (3, 1, 1)


@given(_steps, _steps)
def test_an_incident_reinforces_a_procedure_by_one_at_most_and_only_with_its_fix(
    held: list[Step], incident: list[Step]
) -> None:
    procedure = Procedure("x", [Step(s.action, runs=s.runs, fixes=s.fixes) for s in held])
    fix, own = fixing_step(incident), fixing_step(procedure.steps)
    same = fix is not None and own is not None and fix.action == own.action
    fixes_before = sum(s.fixes for s in procedure.steps)
    assert reinforce(procedure, incident) == same
    assert procedure.successes == int(same) and procedure.failures == 0
    assert sum(s.fixes for s in procedure.steps) == fixes_before + int(same)
