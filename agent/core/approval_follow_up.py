"""What the autopilot does once a remedy waits for a person: follow the decision, answer it by
a stated policy when no person is at hand, or withdraw it when the target recovers first.

Chosen: these are the autopilot's own steps (they read and write its open incidents), kept
apart so the loop in agent/core/autopilot.py reads as a loop. An approved remedy earns credit
only when a failing check confirmed the fault shortly before it ran (`confirmed_before`).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from agent.core import credit, incident_books, remedy
from agent.errors import WebopsError
from agent.ops.evidence import add_credits
from agent.ops.incidents import OpenIncident

if TYPE_CHECKING:
    from agent.core.approval_view import ApprovalView
    from agent.core.autopilot import Autopilot


async def stand_in_operator(pilot: Autopilot, approval_id: int) -> None:
    """The headless demo's operator, answering by a stated policy."""
    if pilot.policy == "wait":
        await pilot.clock.sleep(pilot.approve_delay_s)
    with contextlib.suppress(WebopsError):  # someone may have decided already
        if pilot.policy == "none":
            await pilot.kernel.deny(approval_id, by="stand-in operator")
        else:
            await pilot.kernel.approve(approval_id, by="stand-in operator")


async def withdraw(pilot: Autopilot, incident: OpenIncident) -> None:
    """The target recovered while its remedy waited for a person: withdraw the request
    (unless someone decided it already), run nothing, close the incident as recovered."""
    approval_id = incident.approval_id
    if approval_id is None or not await pilot.kernel.withdraw(approval_id, "recovered"):
        return
    incident.approval_id = None  # before the next await: this withdrawal closes it
    action = (await pilot.kernel.approval(approval_id)).action
    await incident_books.close(
        pilot,
        incident,
        "recovered",
        f"{remedy.RECOVERED}: healthy again before {action} was approved; nothing ran",
    )


async def follow_approvals(pilot: Autopilot) -> None:
    """Carry on with incidents whose approval a person (or the stand-in) decided."""
    for incident in list(pilot.open.values()):
        if incident.row.status != "awaiting_approval" or incident.approval_id is None:
            continue
        approval_id = incident.approval_id
        approval = await pilot.kernel.approval(approval_id)
        if approval.status in ("pending", "approved") or incident.approval_id != approval_id:
            continue  # "approved": the action is still running
        incident.approval_id = None
        if approval.status == "withdrawn":  # a re-check as it was approved: healthy
            await incident_books.close(
                pilot,
                incident,
                "recovered",
                f"{remedy.RECOVERED}: healthy again when {approval.action} was approved; "
                "nothing ran",
            )
            continue
        incident.set_status("open")
        # Busy while the decision is followed up: a check that ends meanwhile (begun before
        # the remedy ran) must not start a turn of its own and ask again.
        incident.busy = True
        try:
            await _follow_up(pilot, incident, approval)
        finally:
            incident.busy = False


async def _follow_up(pilot: Autopilot, incident: OpenIncident, approval: ApprovalView) -> None:
    """A decided approval's consequence: a denial looks for another way; a remedy that ran is
    verified, credited, and closes the incident or hands it back for another turn."""
    row = incident.row
    assert row.owner is not None
    agent = await pilot.kernel.load_agent(row.owner)
    if approval.status == "denied":
        incident.record([(approval.action, False)])
        add_credits(row, [credit.denied(approval.action, approval.decided_by)])
        pilot.say(f"incident {row.id}: {approval.action} denied; looking for another way")
        pilot.spawn(pilot.handle(incident))
        return
    row.steps += 2  # the approved action, then the check that verifies it
    confirmed, basis = confirmed_before(
        pilot, row.target, approval.decided_at, approval.decided_by or "a person"
    )
    judgement = await remedy.verify_approved(
        agent,
        row.situation,
        approval.action,
        approval.status == "executed",
        pilot.kernel.ops.check_request(row.target),
        confirmed=confirmed,
        basis=basis,
    )
    fixed = judgement.fixed
    incident.record([(approval.action, fixed)])
    add_credits(row, [judgement])
    if fixed:
        if confirmed:  # only a real fix becomes a procedure
            await remedy.keep_what_fixed(agent, row.situation, incident.tried)
        await incident_books.close(pilot, incident, "resolved", f"{approval.action} fixed it")
    else:
        pilot.spawn(pilot.handle(incident))


def confirmed_before(
    pilot: Autopilot, target: str, decided_at: float | None, by: str
) -> tuple[bool, str]:
    """A failing check within one check interval (at least `remedy.CONFIRMED_FRESH_S`)
    before an approved remedy ran: only then may it earn credit (agent/core/remedy.py);
    and the reason, for the incident's record."""
    spec = pilot.kernel.ops.targets.get(target)
    window = max(remedy.CONFIRMED_FRESH_S, spec.interval_s if spec else 0.0)
    confirmed = pilot.watch.confirmed_before(target, decided_at, window)
    why = credit.approved_basis(confirmed, pilot.watch.failing_at(target), decided_at, by)
    return confirmed, why
