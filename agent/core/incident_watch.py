"""What the notifier reads from the incident rows rather than hears as events.

Events reach only the process that published them. `webops incident ack 7` or `resolve 7` run
in another process (the CLI, a second `serve`) change the row and publish to nobody here, and an
incident left open by a previous run publishes nothing until the loop next changes it. So the
notifier reads the file: at start, every incident still open (reminders go on where the last
run stopped); before each look for reminders, the rows of the incidents it holds open, to see
an acknowledgement (reminders stop) or a close (its notice is sent, "resolved" included).
"""

from __future__ import annotations

from agent.ops.evidence import OPEN_STATUSES
from agent.ops.incidents import changed_event
from agent.ops.notices import CLOSED, Incidents, Notice, OpenIncident
from storage.repositories.incidents import IncidentRepository

#: At most this many open incidents are read at a time (more are not open at once in practice).
MAX_OPEN = 1000


async def load_open(rows: IncidentRepository, incidents: Incidents) -> None:
    """Incidents open in the file (from a previous run, or another process) join those held
    open, acknowledged as their rows say; none is announced for it."""
    for row in await rows.list(statuses=OPEN_STATUSES, limit=MAX_OPEN):
        assert row.id is not None
        if row.id not in incidents.open:
            incidents.open[row.id] = OpenIncident(
                row.target, row.situation, row.opened_at, row.acknowledged_at is not None
            )


async def reread(rows: IncidentRepository, incidents: Incidents, now: float) -> list[Notice]:
    """Acknowledgements and closes the rows show of the incidents held open: acknowledged ones
    stop reminding, closed ones leave with their notice (what the event would have said)."""
    held = list(incidents.open)
    if not held:
        return []
    still = {r.id: r for r in await rows.list(statuses=OPEN_STATUSES, limit=MAX_OPEN)}
    notices: list[Notice] = []
    for incident_id in held:
        row = still.get(incident_id) or await rows.get(incident_id)
        incident = incidents.open.get(incident_id)
        if incident is None:  # an event closed it meanwhile
            continue
        if row is None:  # pruned or gone: nothing to remind of
            del incidents.open[incident_id]
            continue
        incident.acknowledged = row.acknowledged_at is not None
        if row.status in CLOSED:
            notice = incidents.closed_elsewhere(changed_event(row, now))
            if notice is not None:
                notices.append(notice)
    return notices
