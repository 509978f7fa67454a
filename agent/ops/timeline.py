"""An incident's story in time order: the checks that detected and confirmed it, opened, each
decision with its explanation, the remedies tried (with their output, verification and the
credit each earned), the dry runs before them, the approvals asked for and decided, messages
between agents about it, a person's acknowledgement, resolve, reopen and notes, closed.

An on-call engineer taking over asks "what happened, in what order?". Nothing new is stored for
this: the incident row holds when it opened and closed, its confirming checks and the credit of
each remedy (agent/ops/evidence.py), and the audit chain holds every remedy that ran and every
approval asked for, granted, denied or withdrawn, stamped with the target. The incident's
journal (table `incident_event`, migration 14) holds the owner's decisions and what people did;
the message history holds what the agents said about it. The timeline merges them all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from storage.repositories.audit import AuditEntry

if TYPE_CHECKING:
    from agent.ops.confirmation import FailingCheck
    from agent.ops.evidence import Credit

#: What one step of a timeline is.
StepKind = Literal[
    "opened",
    "check",
    "decision",
    "remedy",
    "dry_run",
    "approval",
    "message",
    "acknowledged",
    "resolved",
    "reopened",
    "note",
    "closed",
]
#: Journal kinds (agent/core/incident_lifecycle.py, person_overrides.py) shown as steps.
JOURNAL_KINDS: tuple[StepKind, ...] = ("decision", "acknowledged", "resolved", "reopened", "note")
#: What a person's step says when it came without a note.
PLAIN = {"resolved": "resolved by a person", "reopened": "reopened by a person"}
#: One journal line: when, what kind, who, what.
JournalLine = tuple[float, str, str | None, str]
#: One message between agents about the incident: when, who said it, what.
MessageLine = tuple[float, str, str]
#: Audit events that decide or take back an approval.
APPROVAL_EVENTS = ("approval_requested", "approved", "denied", "withdrawn")
#: Seconds around the incident's open and close in which its audit entries still belong to it
#: (a remedy is audited a moment after the state it acted on).
SLACK_S = 1.0


class TimelineStep(BaseModel):
    """One step: when, what kind, who did it (an agent or a person, if anyone) and what."""

    ts: float
    kind: StepKind
    actor: str | None = None
    text: str


def _detail(entry: AuditEntry) -> dict[str, object]:
    try:
        loaded = json.loads(entry.detail)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _remedy(entry: AuditEntry, credits: list[Credit]) -> TimelineStep | None:
    """A mutating action from the audit chain, with the credit of the same remedy (in order)."""
    detail = _detail(entry)
    if detail.get("risk") in (None, "none"):
        return None  # a check or another read: the confirming checks are listed from the row
    text = f"{entry.action or '?'}: {detail.get('status', '?')}"
    if detail.get("detail"):
        text += f" ({detail['detail']})"
    for i, credit in enumerate(credits):
        if credit.action == entry.action:
            credits.pop(i)
            text += "; verified: fixed it" if credit.fixed else "; verified: still failing"
            text += f"; credit {'neutral' if credit.credit is None else f'{credit.credit:g}'}"
            text += f" ({credit.why})"
            break
    return TimelineStep(ts=entry.ts, kind="remedy", actor=entry.actor, text=text)


def _dry_run(entry: AuditEntry) -> TimelineStep:
    """A remedy's dry run (agent/core/dry_runs.py): how it ended; a failed one stopped it."""
    detail = _detail(entry)
    status = detail.get("status", "?")
    text = f"dry run of {entry.action or '?'}: {status}"
    if detail.get("detail"):
        text += f" ({detail['detail']})"
    if status != "succeeded":
        text += f"; {entry.action or 'the remedy'} did not run"
    return TimelineStep(ts=entry.ts, kind="dry_run", actor=entry.actor, text=text)


def _approval(entry: AuditEntry) -> TimelineStep:
    detail = _detail(entry)
    number = detail.get("approval_id", "?")
    verb = "asked approval" if entry.event == "approval_requested" else entry.event
    text = f"{verb} #{number} for {entry.action or '?'}"
    if entry.why and entry.event == "approval_requested":  # a decision repeats the same why
        text += f": {entry.why}"
    if detail.get("dry_run"):  # what a runbook's dry run printed, when one ran first
        text += f"; dry run: {detail['dry_run']}"
    return TimelineStep(ts=entry.ts, kind="approval", actor=entry.actor, text=text)


def build_timeline(
    *,
    situation: str,
    health: str,
    status: str,
    opened_at: float,
    closed_at: float | None,
    evidence: Sequence[FailingCheck],
    credits: Sequence[Credit],
    audit: Iterable[AuditEntry],
    journal: Iterable[JournalLine] = (),
    messages: Iterable[MessageLine] = (),
) -> list[TimelineStep]:
    """The incident's steps, oldest first. Credits not matched to an audited remedy (an older
    audit was pruned, say) are still listed, at the close."""
    steps: list[TimelineStep] = []
    for i, check in enumerate(evidence):
        ms = f" ({check.latency_ms:.0f} ms)" if check.latency_ms is not None else ""
        first = "detected: " if i == 0 else ""
        text = f"{first}failing check: {check.health}, {check.detail or '-'}{ms}"
        steps.append(TimelineStep(ts=check.ts, kind="check", text=text))
    # After the checks: the check that confirmed it opened it, at the same moment.
    confirmed = f", confirmed by {len(evidence)} failing checks" if evidence else ""
    steps.append(
        TimelineStep(ts=opened_at, kind="opened", text=f"opened: {situation} ({health}){confirmed}")
    )
    for ts, kind, actor, text in journal:
        step_kind = next((k for k in JOURNAL_KINDS if k == kind), "note")
        said = text or PLAIN.get(step_kind, step_kind)
        steps.append(TimelineStep(ts=ts, kind=step_kind, actor=actor, text=said))
    for ts, sender, text in messages:
        steps.append(TimelineStep(ts=ts, kind="message", actor=sender, text=text))
    unmatched = list(credits)
    for entry in audit:
        if entry.event == "action":
            remedy = _remedy(entry, unmatched)
            if remedy is not None:
                steps.append(remedy)
        elif entry.event == "dry_run":
            steps.append(_dry_run(entry))
        elif entry.event in APPROVAL_EVENTS:
            steps.append(_approval(entry))
    end = closed_at if closed_at is not None else max(s.ts for s in steps)
    for credit in unmatched:
        label = "neutral" if credit.credit is None else f"{credit.credit:g}"
        text = f"{credit.action}: {'fixed it' if credit.fixed else 'did not fix it'}"
        steps.append(
            TimelineStep(ts=end, kind="remedy", text=f"{text}; credit {label} ({credit.why})")
        )
    if closed_at is not None:
        steps.append(TimelineStep(ts=closed_at, kind="closed", text=f"closed: {status}"))
    steps.sort(key=lambda s: s.ts)  # stable: equal times keep the order above
    return steps
