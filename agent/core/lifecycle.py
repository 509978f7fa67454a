"""Lifecycle of an agent: which states exist and which moves between them are allowed.

`resting` is when consolidation runs; `learning` is when an agent practises or reflects while
still answering; `shutdown` is a stopped agent that can be started again.
"""

from __future__ import annotations

from enum import StrEnum

from agent.errors import InvalidInput


class LifecycleState(StrEnum):
    INITIALIZING = "initializing"
    ACTIVE = "active"
    LEARNING = "learning"
    RESTING = "resting"
    SHUTDOWN = "shutdown"


S = LifecycleState

TRANSITIONS: dict[LifecycleState, frozenset[LifecycleState]] = {
    S.INITIALIZING: frozenset({S.ACTIVE, S.SHUTDOWN}),
    S.ACTIVE: frozenset({S.LEARNING, S.RESTING, S.SHUTDOWN}),
    S.LEARNING: frozenset({S.ACTIVE, S.RESTING, S.SHUTDOWN}),
    S.RESTING: frozenset({S.ACTIVE, S.SHUTDOWN}),
    S.SHUTDOWN: frozenset({S.INITIALIZING}),
}


class InvalidTransition(InvalidInput):
    """A move the lifecycle does not allow; the state is left as it was."""


def check_transition(current: LifecycleState, new: LifecycleState) -> LifecycleState:
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing"
        raise InvalidTransition(f"cannot go from {current} to {new} (allowed: {allowed})")
    return new


def parse_state(value: str) -> LifecycleState:
    """Read a stored state; an unknown value (say, from a newer version) reads as shutdown."""
    try:
        return LifecycleState(value)
    except ValueError:
        return LifecycleState.SHUTDOWN
