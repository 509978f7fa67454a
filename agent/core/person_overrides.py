"""The autopilot's side of a person's resolve or reopen (agent/core/incident_lifecycle.py).

Chosen: the row's `person_rev` is a compare-and-set token. The loop writes an incident only
over the revision it read (`IncidentRepository.save` returns False otherwise) and re-reads it
before each handling turn; either way a moved revision means a person resolved it (here or in
another process, `webops incident resolve` while `webops run` runs), and the loop lets it go:
no more remedies, nothing overwritten, and no new incident on that target until it has been
healthy again (the person said the fault is dealt with). A reopened incident is taken up again
when the target's checks confirm a fault anew, instead of opening a second incident for the
same fault. Each decision the owner makes on an incident is journalled with its explanation,
for the timeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.ops.evidence import OPEN_STATUSES
from agent.ops.incidents import OpenIncident, tried_of
from storage.tables import IncidentEventRow, IncidentRow

if TYPE_CHECKING:
    from agent.core.autopilot import Autopilot
    from agent.core.stimulus import Outcome


def let_go(pilot: Autopilot, incident: OpenIncident) -> None:
    """A person took the incident over: stop handling it (a new fault needs new checks)."""
    row = incident.row
    if pilot.open.get(row.target) is incident:
        del pilot.open[row.target]
        pilot.schedule.closed(row.target)
        pilot.held.add(row.target)
        pilot.say(f"incident {row.id}: a person changed it; the agents let it go")


async def taken_back(pilot: Autopilot, incident: OpenIncident) -> bool:
    """Whether a person resolved or reopened the incident since the loop read it (then it is
    let go): checked before every handling turn, so no remedy starts after a resolve."""
    assert incident.row.id is not None
    stored = await pilot.incidents.get(incident.row.id)
    if stored is not None and stored.person_rev == incident.row.person_rev:
        return False
    let_go(pilot, incident)
    return True


async def held(pilot: Autopilot, target: str, trouble: bool) -> bool:
    """Whether a failing `target` is still held after a person resolved its incident; a
    healthy check, or the incident reopened (here or elsewhere), releases it."""
    if target not in pilot.held:
        return False
    if trouble and not await pilot.incidents.list(statuses=OPEN_STATUSES, target=target, limit=1):
        return True
    pilot.held.discard(target)
    return False


async def adopt_reopened(pilot: Autopilot, target: str) -> OpenIncident | None:
    """A reopened incident on `target` that the loop does not hold, now that its checks
    confirm a fault: the agents take it up again."""
    found = await pilot.incidents.list(statuses=OPEN_STATUSES, target=target, limit=1)
    if not found or target in pilot.open:
        return None
    row = found[0]
    incident = OpenIncident(row=row, tried=tried_of(row.actions))
    if row.status == "awaiting_approval":
        incident.set_status("open")
    pilot.open[target] = incident
    pilot.say(f"incident {row.id}: reopened and still failing; the agents take it up again")
    return incident


async def decided(pilot: Autopilot, row: IncidentRow, outcome: Outcome, at: float) -> None:
    """Journal the owner's decision on the incident, with its explanation, at the time the
    turn began (`at`), so the timeline shows it before the remedies it led to. A turn that
    replayed a trusted procedure made no fresh decision: the procedure is what it chose."""
    assert row.id is not None
    decision = outcome.decision
    if outcome.procedure_id is not None:
        text = f"replay procedure {outcome.procedure_id}: {outcome.summary} -> {outcome.status}"
    else:
        chosen = decision.option + (f" {decision.action}" if decision.action else "")
        text = (
            f"{chosen} (confidence {decision.confidence:.2f}): {decision.explanation.summary}"
            f" -> {outcome.status}"
        )
    event = IncidentEventRow(incident_id=row.id, ts=at, kind="decision", actor=row.owner, text=text)
    await pilot.incidents.add_event(event)
