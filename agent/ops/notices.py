"""What each kernel event tells the people on call, as one notice (title, body, about what).

Which events are worth a message, and how each is defined from what the kernel publishes:

- *incident opened*: the first `IncidentChanged` of an incident (status "open").
- *incident escalated*: an `IncidentChanged` to status "failed": the team gave up after its
  attempts (autopilot.MAX_ATTEMPTS) and the incident now needs a person. (An owner asking a
  person to approve a remedy is its own event, *approval requested*.)
- *incident resolved*: an `IncidentChanged` to "resolved" or "recovered", whoever closed it.
- *approval requested* / *decided*: `ApprovalRequested` / `ApprovalDecided`.
- *agent stuck*: an agent's action hung until a timeout ended it: an `ActionFinished` with
  status "timeout" (agent/core/acting.py cancelled it past its skill timeout), or a remedy
  (not a check: a check that times out is the target's trouble) that runbooks.py killed at its
  timeout ("(timeout)") or gave up on for want of an answer ("no answer within"). A remedy
  that fails quickly is an outcome the agent learns from, not a hang.

`Incidents` holds the incidents still open, and whether someone acknowledged them, for
reminders. It does not decide alone whether an incident was announced: the notifier asks the
outbox (a row for that route, incident and event), so an incident open from a previous run is
not announced again when it next changes. Acknowledgements and closes come from events in this
process and from the incident rows the notifier re-reads (agent/core/incident_watch.py), which
is how it hears of `webops incident ack/resolve` run in another process; `told_closed` keeps a
close heard both ways from being sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from agent.events import (
    ActionFinished,
    ApprovalDecided,
    ApprovalRequested,
    IncidentAcknowledged,
    IncidentChanged,
    KernelEvent,
)
from agent.ops.notify_routes import REMINDER

NotifyType = Literal["info", "success", "warning", "failure"]
#: How apprise shows each notice (colour, icon) where the service can.
NOTIFY_TYPE: dict[str, NotifyType] = {
    "incident_opened": "failure",
    "incident_escalated": "failure",
    "agent_stuck": "failure",
    REMINDER: "warning",
    "approval_requested": "warning",
    "incident_resolved": "success",
}
_OPEN = ("open", "awaiting_approval")
#: What closes an incident for notices (a person's resolve included).
CLOSED = ("failed", "resolved", "recovered")
#: Closes remembered, newest kept: far more than are closed while one notice is in flight.
MAX_TOLD_CLOSED = 10_000
#: How agent/ops/runbooks.py says it ended a remedy that hung.
_HUNG = ("(timeout)", "no answer within")


def _hung(event: ActionFinished) -> bool:
    if event.status == "timeout":
        return True
    remedy = not event.action.endswith("_check")
    return remedy and event.status == "failed" and any(m in event.detail for m in _HUNG)


@dataclass(frozen=True)
class Notice:
    event: str
    title: str
    body: str
    target: str | None = None
    incident_id: int | None = None


@dataclass
class OpenIncident:
    target: str
    situation: str
    opened_at: float
    acknowledged: bool = False


@dataclass
class Incidents:
    """The incidents this notifier knows to be open (seen opening, or read from the file)."""

    open: dict[int, OpenIncident] = field(default_factory=dict)
    #: incident id -> the closing status already told (from an event or the re-read row), so
    #: the same close seen again makes no second notice; a reopening forgets it.
    told_closed: dict[int, str] = field(default_factory=dict)

    def notice(self, event: KernelEvent) -> Notice | None:
        """The notice `event` makes, if any (and what it changes about open incidents)."""
        if isinstance(event, IncidentChanged):
            return self._incident(event)
        if isinstance(event, IncidentAcknowledged):
            if event.incident_id in self.open:
                self.open[event.incident_id].acknowledged = True
            return None
        if isinstance(event, ApprovalRequested):
            return Notice(
                "approval_requested",
                f"approval {event.approval_id} requested: {event.action} on {event.target or '-'}",
                f"{event.agent} asks to run {event.action} ({event.risk} risk): {event.summary}",
                target=event.target,
            )
        if isinstance(event, ApprovalDecided):
            return Notice(
                "approval_decided",
                f"approval {event.approval_id} {event.status}",
                f"approval {event.approval_id} ({event.agent}) {event.status} by {event.by}",
            )
        if isinstance(event, ActionFinished) and _hung(event):
            return Notice(
                "agent_stuck",
                f"{event.agent} stuck: {event.action} timed out",
                f"{event.agent}'s {event.action} on {event.target or '-'} hung until its "
                f"timeout cancelled it: {event.detail}",
                target=event.target,
            )
        return None

    def _incident(self, event: IncidentChanged) -> Notice | None:
        i, target = event.incident_id, event.target
        where = f"incident {i} on {target}"
        if event.status in _OPEN:
            self.told_closed.pop(i, None)
            if i not in self.open:  # opened, reopened, or taken up again after a restart
                self.open[i] = OpenIncident(target, event.situation, event.ts)
            return Notice(
                "incident_opened",
                f"{where} opened: {event.situation}",
                f"{target} is {event.health}: {event.situation} ({event.summary})",
                target=target,
                incident_id=i,
            )
        self.open.pop(i, None)
        if self.told_closed.get(i) == event.status:
            # Told already: from the re-read row, or the handler's own late write of a row a
            # check had just closed (the demo's webhook got "resolved" twice).
            return None
        self.told_closed[i] = event.status
        if len(self.told_closed) > MAX_TOLD_CLOSED:
            del self.told_closed[next(iter(self.told_closed))]
        if event.status == "failed":
            return Notice(
                "incident_escalated",
                f"{where} escalated: the team gave up",
                f"{event.summary} (owner {event.owner or '-'}, {event.steps} steps)",
                target=target,
                incident_id=i,
            )
        if event.status in ("resolved", "recovered"):
            return Notice(
                "incident_resolved",
                f"{where} {event.status}",
                f"{event.summary} (owner {event.owner or '-'}, {event.steps} steps)",
                target=target,
                incident_id=i,
            )
        return None

    def closed_elsewhere(self, event: IncidentChanged) -> Notice | None:
        """The notice of a close read from the row (a person's resolve in another process):
        like the event's, and remembered so the event, should it come too, adds nothing."""
        return self._incident(event)

    def reminder(self, incident_id: int, now: float) -> Notice:
        incident = self.open[incident_id]
        minutes = (now - incident.opened_at) / 60
        return Notice(
            REMINDER,
            f"incident {incident_id} on {incident.target} still open",
            f"open for {minutes:.0f} min and not acknowledged: {incident.situation}",
            target=incident.target,
            incident_id=incident_id,
        )
