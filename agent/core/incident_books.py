"""The autopilot's incident bookkeeping: taking up what a previous run left open, opening an
incident, writing each change (and telling the bus), closing it.

Chosen: every change is written at once and the in-memory state follows the database, never
leads it: an incident is claimed before its first write (nothing sees the target as quiet
meanwhile) and released if that write fails; it is closed in memory only once the close is
stored. A write refused because a person moved the row's revision lets the incident go
(agent/core/person_overrides.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.core import person_overrides
from agent.ops.confirmation import Fault
from agent.ops.evidence import OPEN_STATUSES, set_evidence
from agent.ops.incidents import Closing, OpenIncident, changed_event, tried_of
from storage.tables import IncidentRow

if TYPE_CHECKING:
    from agent.core.approval_view import ApprovalView
    from agent.core.autopilot import Autopilot


async def resume(pilot: Autopilot) -> list[int]:
    """Incidents a previous run left open are taken up again; one that waited for an
    approval waits for the same one (the newest asked for its target, by its owner, since
    it opened), or is handled afresh when there is none. Returns the approvals waited for.
    A worker (`webops run --worker`) takes up only those of the targets it leases."""
    waiting: list[int] = []
    asked = await pilot.kernel.approvals(status=None)
    for status in ("open", "awaiting_approval"):
        for row in await pilot.incidents.list(status):
            if pilot.worker is not None and not pilot.worker.owns(row.target):
                continue
            if (approval_id := take_up(pilot, row, asked)) is not None:
                waiting.append(approval_id)
    return waiting


def take_up(pilot: Autopilot, row: IncidentRow, asked: list[ApprovalView]) -> int | None:
    """Hold the stored open incident `row` as this loop's; the approval it waits for, if any
    (else an incident stored as awaiting one is handled afresh)."""
    incident = OpenIncident(row=row, tried=tried_of(row.actions))
    awaiting = row.status == "awaiting_approval"
    # A stored "open" one may wait too: its loop (a worker killed, say) stored the request but
    # died before the incident's new status was written; asking again would ask twice.
    found = next(
        (
            a
            for a in sorted(asked, key=lambda a: -a.id)
            if a.target == row.target
            and row.owner in (a.agent, None)
            and a.created_at >= row.opened_at
            and (awaiting or a.status == "pending")
        ),
        None,
    )
    if found is not None:
        incident.approval_id = found.id
        row.owner = found.agent
        incident.set_status("awaiting_approval")
    elif awaiting:
        incident.set_status("open")
    pilot.open[row.target] = incident
    return incident.approval_id


async def follow_leases(pilot: Autopilot) -> list[int]:
    """A worker's leases moved: the open incident of a target it now leases is taken up from
    the database (its previous worker opened it); one of a target it no longer leases is let
    go once no turn of it is under way (the new worker takes it up). Returns the approvals
    now waited for."""
    worker = pilot.worker
    if worker is None:
        return []
    for target, incident in list(pilot.open.items()):
        if not incident.busy and not worker.owns(target):
            del pilot.open[target]
    gained = [t for t in worker.take_gained() if t not in pilot.open]
    if not gained:
        return []
    waiting: list[int] = []
    asked = await pilot.kernel.approvals(status=None)
    for target in gained:
        for row in await pilot.incidents.list(statuses=OPEN_STATUSES, target=target, limit=1):
            if target not in pilot.open and (approval_id := take_up(pilot, row, asked)):
                waiting.append(approval_id)
    return waiting


async def open_incident(
    pilot: Autopilot, target: str, situation: str, detail: str, fault: Fault
) -> OpenIncident:
    """A confirmed fault on `target` becomes a stored incident (not yet handled)."""
    # Claimed before the first await, so nothing sees the target as quiet meanwhile.
    kind = pilot.describe(target) if pilot.describe else None
    row = IncidentRow(
        target=target,
        situation=situation,
        status="open",
        summary=detail,
        health=fault,
        opened_at=pilot.kernel.clock(),
    )
    set_evidence(row, pilot.watch.evidence(target))
    incident = OpenIncident(row=row, busy=True)
    pilot.open[target] = incident
    try:
        stored = await pilot.incidents.add(row)
    except BaseException:
        # Not stored (a full disk, say): release the claim so the next failing check
        # opens it again, instead of a target wedged behind an incident that never was.
        if pilot.open.get(target) is incident:
            del pilot.open[target]
        raise
    if stored.opened_at != row.opened_at or stored.situation != row.situation:
        # Another worker opened it first (one open incident per target): adopt the stored one.
        incident.busy = False
        take_up(pilot, stored, await pilot.kernel.approvals(status=None))
        pilot.say(f"incident {stored.id} on {target} was opened elsewhere; taking it up")
        return pilot.open[target]
    incident.row = row = stored
    assert row.id is not None
    pilot.kinds[row.id] = kind
    incident.busy = False
    pilot.say(f"incident {row.id} opened: {target} {situation} ({detail})")
    await changed(pilot, incident)
    return incident


async def close(pilot: Autopilot, incident: OpenIncident, status: Closing, summary: str) -> None:
    """Closed in memory only once the close is stored: if the write fails the incident
    stays open here as in the database, and is handled again. Closed once: a second
    close while the first is written is dropped."""
    if incident.closing:
        return
    incident.closing = True
    row = incident.row
    before = (row.status, row.summary, row.closed_at)
    incident.set_status(status)
    row.summary = summary
    row.closed_at = pilot.kernel.clock()
    try:
        if not await pilot.incidents.save(row):
            return person_overrides.let_go(pilot, incident)
    except BaseException:
        row.status, row.summary, row.closed_at = before
        incident.closing = False
        raise
    pilot.open.pop(row.target, None)
    if row.owner is not None:
        pilot.rest.closed(row.owner)
    # A new incident on this target needs a new run of failing checks.
    pilot.schedule.closed(row.target)
    await changed(pilot, incident, final=True)
    assert row.id is not None
    view = incident.closed(status, kind=pilot.kinds.get(row.id))
    pilot.closed.append(view)
    seconds = row.closed_at - row.opened_at
    pilot.say(f"incident {row.id} {status} after {row.steps} steps, {seconds:.1f} s: {summary}")


async def changed(pilot: Autopilot, incident: OpenIncident, *, final: bool = False) -> None:
    """Write the incident's change and publish it (the workbench and API follow the bus).
    A handler's step written after a check closed the incident is stored, but not published
    again: the close was (`final`), and a second "resolved" reached the log and the webhooks."""
    row = incident.row
    # The event says what this write stored: the row may change while the save is awaited (a
    # check closing the incident just opened), and an event built after it said "resolved"
    # twice and never "open", so notifications lost the opening and repeated the close.
    event = changed_event(row, pilot.kernel.clock())
    if not await pilot.incidents.save(row):
        return person_overrides.let_go(pilot, incident)
    if pilot.kernel.bus.active and (final or not incident.closing):
        pilot.kernel.bus.publish(event)
