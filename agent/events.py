"""Typed kernel events and the observer bus that carries them to any shell.

Subscribers are plain callables run synchronously on the kernel's event loop; they must be
quick (the workbench posts a Textual message and returns). A subscriber that raises is
dropped from nothing and breaks nothing: the error is logged (on `webops.events`, with its
traceback), counted for `webops status`, and the event goes on to the others.
`listen()` gives an async iterator over a bounded queue for consumers that want to await.

The `webops` loggers have a `NullHandler`, so nothing reaches the terminal (the workbench owns
the screen) unless a shell configures a handler (`webops --log-file`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.mind.mood import Mood

logging.getLogger("webops").addHandler(logging.NullHandler())
logger = logging.getLogger("webops.events")


class KernelEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    agent: str | None = None
    ts: float = Field(default_factory=time.time)


class StateChanged(KernelEvent):
    kind: Literal["state_changed"] = "state_changed"
    old: str
    new: str


class EmotionsChanged(KernelEvent):
    kind: Literal["emotions_changed"] = "emotions_changed"
    emotions: dict[str, float]
    mood: Mood
    cause: str


class DecisionMade(KernelEvent):
    kind: Literal["decision_made"] = "decision_made"
    option: str
    action: str | None
    target: str | None
    confidence: float
    requires_approval: bool
    summary: str


class ActionStarted(KernelEvent):
    kind: Literal["action_started"] = "action_started"
    action: str
    target: str | None


class ActionFinished(KernelEvent):
    kind: Literal["action_finished"] = "action_finished"
    action: str
    target: str | None
    status: str
    detail: str
    duration_ms: float


class ApprovalRequested(KernelEvent):
    kind: Literal["approval_requested"] = "approval_requested"
    approval_id: int
    action: str
    target: str | None
    risk: str
    summary: str


class ApprovalDecided(KernelEvent):
    kind: Literal["approval_decided"] = "approval_decided"
    approval_id: int
    status: str
    by: str


class BehaviourTriggered(KernelEvent):
    kind: Literal["behaviour_triggered"] = "behaviour_triggered"
    pattern: str
    score: float


class AgentSaid(KernelEvent):
    kind: Literal["agent_said"] = "agent_said"
    channel: str
    text: str


class OutcomeLearned(KernelEvent):
    """An agent learned how well an action did in a situation (teammates can watch this)."""

    kind: Literal["outcome_learned"] = "outcome_learned"
    situation: str
    action: str
    reward: float


class Reflected(KernelEvent):
    kind: Literal["reflected"] = "reflected"
    facts: int


class PersonalityDrifted(KernelEvent):
    """An experience moved an agent's traits a little (see `agent.mind.drift`)."""

    kind: Literal["personality_drifted"] = "personality_drifted"
    experience: str
    why: str
    #: The change of each trait it moved.
    changes: dict[str, float]
    #: The traits now (base + drift).
    personality: dict[str, float]


class Consolidated(KernelEvent):
    """An agent rested (agent/core/rest_schedule.py): what consolidation did to its memory."""

    kind: Literal["consolidated"] = "consolidated"
    insights: int
    compressed: int
    trimmed: int
    optimized: int
    #: Each procedure given a better version, and why.
    changes: list[str] = []
    #: Episodes kept after the retention cap; relationships that faded for want of contact.
    episodes: int = 0
    faded: int = 0


class TargetChecked(KernelEvent):
    """The autonomous loop checked a target (the workbench draws status and sparklines)."""

    kind: Literal["target_checked"] = "target_checked"
    target: str
    healthy: bool
    latency_ms: float | None
    detail: str
    #: "up", "degraded" (answering but slow or partial) or "down" (the check failed); one
    #: check says so, an incident needs a run of them (agent/ops/confirmation.py).
    health: Literal["up", "degraded", "down"] = "up"
    #: "maintenance until ...: reason" while a silence or window covers the target.
    maintenance: str | None = None


class IncidentChanged(KernelEvent):
    kind: Literal["incident_changed"] = "incident_changed"
    incident_id: int
    target: str
    situation: str
    status: str
    owner: str | None
    steps: int
    summary: str
    #: How the confirmed fault showed: "degraded" or "down".
    health: Literal["degraded", "down"] = "down"


class IncidentAcknowledged(KernelEvent):
    """A person acknowledged an incident: someone is on it, so reminders about it stop."""

    kind: Literal["incident_acknowledged"] = "incident_acknowledged"
    incident_id: int
    target: str
    by: str


class RelationshipChanged(KernelEvent):
    """How `agent` regards `other` moved (an outcome seen, feedback, a conflict, a hand-over)."""

    kind: Literal["relationship_changed"] = "relationship_changed"
    other: str
    trust: float
    affinity: float
    interactions: int
    #: What changed it: "outcome", "feedback", "conflict" or "handover".
    cause: str


class NotificationSent(KernelEvent):
    """A notification reached its route (agent/core/notifier.py); `event` is what it said."""

    kind: Literal["notification_sent"] = "notification_sent"
    route: str
    event: str
    attempts: int


class NotificationFailed(KernelEvent):
    """An attempt to notify failed; `final` when no more attempts will be made."""

    kind: Literal["notification_failed"] = "notification_failed"
    route: str
    event: str
    attempts: int
    error: str
    final: bool


#: Every event kind the kernel publishes, for filters (the API's `?kind=`) to check against.
EVENT_KINDS: tuple[str, ...] = tuple(
    sorted(str(cls.model_fields["kind"].default) for cls in KernelEvent.__subclasses__())
)

Subscriber = Callable[[KernelEvent], Any]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self.subscriber_errors = 0
        self.last_error = ""
        #: `time.monotonic()` of the last error, to tell which of the kernel's errors is newest.
        self.last_error_at = -float("inf")

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber` with every event from now on; returns the unsubscribe function."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(subscriber)

        return unsubscribe

    @property
    def active(self) -> bool:
        """Whether anyone listens: publishers skip building events nobody would see."""
        return bool(self._subscribers)

    def publish(self, event: KernelEvent) -> None:
        for subscriber in tuple(self._subscribers):
            try:
                subscriber(event)
            except Exception as exc:
                self.subscriber_errors += 1
                self.last_error = f"a subscriber to {event.kind}: {type(exc).__name__}: {exc}"
                self.last_error_at = time.monotonic()
                logger.exception("an event subscriber failed on %s (%r)", event.kind, subscriber)

    @contextlib.asynccontextmanager
    async def listen(self, maxsize: int = 10_000) -> AsyncIterator[asyncio.Queue[KernelEvent]]:
        """A queue of events for the block's lifetime; the oldest is dropped when it is full."""
        queue: asyncio.Queue[KernelEvent] = asyncio.Queue(maxsize)

        def put(event: KernelEvent) -> None:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

        unsubscribe = self.subscribe(put)
        try:
            yield queue
        finally:
            unsubscribe()
