"""Lifecycle: only valid transitions, each persisted and announced."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.core.kernel import Kernel
from agent.core.lifecycle import TRANSITIONS, InvalidTransition, LifecycleState, check_transition
from agent.events import StateChanged

# Each test on a `db_path` runs on SQLite and on PostgreSQL (tests/pg_fixtures.py).
pytestmark = pytest.mark.both_backends

states = st.sampled_from(list(LifecycleState))


@given(states, st.lists(states, max_size=30))
def test_only_listed_transitions_are_allowed(start: LifecycleState, moves: list) -> None:
    current = start
    for new in moves:
        if new in TRANSITIONS[current]:
            current = check_transition(current, new)
        else:
            with pytest.raises(InvalidTransition):
                check_transition(current, new)


def test_every_state_can_reach_shutdown_and_come_back() -> None:
    for state in LifecycleState:
        if state is not LifecycleState.SHUTDOWN:
            assert LifecycleState.SHUTDOWN in TRANSITIONS[state]
    assert LifecycleState.INITIALIZING in TRANSITIONS[LifecycleState.SHUTDOWN]


async def test_transitions_are_persisted_and_announced(db_path: Path) -> None:
    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("anna", "cautious")
        seen: list[tuple[str, str]] = []
        kernel.bus.subscribe(
            lambda e: seen.append((e.old, e.new)) if isinstance(e, StateChanged) else None
        )
        agent = await kernel.start_agent("anna")
        await agent.transition(LifecycleState.RESTING)
        with pytest.raises(InvalidTransition, match="from resting to learning"):
            await agent.transition(LifecycleState.LEARNING)
        assert (await kernel.get_agent("anna")).state == "resting"
        await agent.stop()
    assert seen == [("initializing", "active"), ("active", "resting"), ("resting", "shutdown")]
    async with await Kernel.open(db_path) as kernel:
        assert (await kernel.get_agent("anna")).state == "shutdown"
        agent = await kernel.start_agent("anna")  # shutdown -> initializing -> active
        assert agent.state == "active"
