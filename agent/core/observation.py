"""Observation learning: an agent learns from a teammate's outcomes as if it had acted itself,
discounted by how much it trusts that teammate (and the outcome then moves that trust).

The watcher hears the teammate's `OutcomeLearned` events on the bus; nothing is copied or
shared between the two agents' memories.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.core.agent import WebOpsAgent
from agent.events import EventBus, KernelEvent, OutcomeLearned
from agent.social.relationships import Relationships


def watch(
    bus: EventBus,
    relationships: Relationships,
    watcher: WebOpsAgent,
    teammate: str,
    trust: float,
    clock: Callable[[], float],
    changed: Callable[[WebOpsAgent], None],
) -> Callable[[], None]:
    """Let `watcher` learn from `teammate`'s outcomes; returns the function that stops it."""
    observer = watcher.name

    def on_event(event: KernelEvent) -> None:
        if isinstance(event, OutcomeLearned) and event.agent == teammate:
            # Whose observation counts how much: the watcher's trust in the teammate (scaled
            # by `trust`), which the outcome then moves.
            weight = trust * relationships.weight(observer, teammate) * 2
            watcher.memory.learner.observe(
                event.situation, event.action, event.reward, min(1.0, weight)
            )
            relationships.record_outcome(observer, teammate, event.reward > 0.5, clock())
            changed(watcher)

    return bus.subscribe(on_event)
