"""Notification routes: where a notice goes (an apprise URL) and which notices go there.

A route is the `[[notify]]` table of the ops document and what `webops notify add` stores. It
says which events it wants (all by default), about which targets (names or fnmatch globs, all
by default) and from which target criticality on; whether to say when an incident is resolved
(Gatus's habit: yes by default); and how often to remind while an incident stays open and
nobody acknowledged it (0: never).

The URL often carries a token (`ntfy://user:pass@host/topic`, a Slack webhook's path), so it is
stored sealed and only ever shown as `scheme://host/…` (`masked_url`).
"""

from __future__ import annotations

import fnmatch
from typing import Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.decision.risk import Criticality, CriticalityName
from agent.ops.durations import format_duration, parse_duration
from agent.ops.targets import NAME

NoticeEvent = Literal[
    "incident_opened",
    "incident_escalated",
    "incident_resolved",
    "approval_requested",
    "approval_decided",
    "agent_stuck",
]
#: Every event a route may ask for (a reminder follows `incident_opened`).
NOTICE_EVENTS: tuple[NoticeEvent, ...] = get_args(NoticeEvent)
#: What a reminder is called in the outbox; routes that want `incident_opened` get them.
REMINDER = "incident_reminder"
TEST = "test"


class NotifyRouteSpec(BaseModel):
    """One route; `name` is its identity (what `notify remove` and the ops document match)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    url: str
    events: list[NoticeEvent] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    min_criticality: CriticalityName = "low"
    remind_every: float = 0.0
    send_resolved: bool = True

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not NAME.fullmatch(value):
            raise ValueError(
                f"invalid route name {value!r}: use letters, digits, '.', '-' or '_', "
                "starting with a letter"
            )
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        if "://" not in value or not urlsplit(value).scheme:
            raise ValueError(
                f"{masked_url(value)!r} is not an apprise URL (e.g. json://host:port/path, "
                "ntfy://host/topic)"
            )
        return value

    @field_validator("remind_every", mode="before")
    @classmethod
    def _span(cls, value: object) -> float:
        if isinstance(value, str | int | float):
            return parse_duration(value, "remind_every")
        raise ValueError("remind_every must be a span of time like 30m")

    @field_validator("targets")
    @classmethod
    def _no_blank(cls, value: list[str]) -> list[str]:
        if any(not t.strip() for t in value):
            raise ValueError("a target name or glob must not be empty")
        return value

    @property
    def level(self) -> Criticality:
        return Criticality[self.min_criticality.upper()]

    def wants(self, event: str, target: str | None, criticality: Criticality | None) -> bool:
        """Whether a notice about `event` on `target` goes here. Notices about no target (an
        agent stuck outside an incident) pass the target and criticality filters only when
        the route has none; a target that is not defined (any more) counts as low."""
        kind = "incident_opened" if event == REMINDER else event
        if self.events and kind not in self.events:
            return False
        if kind == "incident_resolved" and not self.send_resolved:
            return False
        if event == REMINDER and self.remind_every <= 0:
            return False
        if target is None:
            return not self.targets and self.level == Criticality.LOW
        if self.targets and not any(fnmatch.fnmatchcase(target, p) for p in self.targets):
            return False
        return (criticality or Criticality.LOW) >= self.level

    def shown(self) -> dict[str, object]:
        """What `notify list` shows: everything but the whole URL."""
        return {
            "name": self.name,
            "url": masked_url(self.url),
            "events": list(self.events) or ["all"],
            "targets": list(self.targets) or ["all"],
            "min_criticality": self.min_criticality,
            "remind_every": format_duration(self.remind_every) if self.remind_every else "0",
            "send_resolved": self.send_resolved,
        }


def masked_url(url: str) -> str:
    """`scheme://host/…`: enough to tell routes apart, never a token, user or path."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unreadable URL)"
    scheme = parts.scheme or "?"
    return f"{scheme}://{host}{port}/…"
