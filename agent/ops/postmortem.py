"""A postmortem of one incident, built from its record: what happened, for how long, what the
agents tried, what fixed it, and what the team learned.

After an incident someone writes "what happened and what do we change": this hands them the
facts instead of a blank page. Everything comes from what is stored (the incident row, its
timeline from agent/ops/timeline.py, the facts whose sources are episodes about the incident's
situation while it was open); `webops incident report` renders it as Markdown, text or JSON.
Time to detect runs from the first failing check to the incident's opening (its
confirmation); time to resolve from the first failing check to the close.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from agent.ops.evidence import Credit, IncidentDetail
from agent.ops.timeline import TimelineStep


class LearnedFact(BaseModel):
    """A semantic fact an agent holds that came (partly) from this incident's episodes."""

    agent: str
    subject: str
    predicate: str
    value: str
    confidence: float


class Postmortem(BaseModel):
    """`webops incident report ID --format json`."""

    incident: IncidentDetail
    summary: str
    #: From the first failing check to the close (None while it is still open).
    impact_start: float
    impact_end: float | None
    time_to_detect_s: float
    time_to_resolve_s: float | None
    #: Each remedy tried, in order, with whether it fixed it and why.
    tried: list[Credit]
    #: Each remedy's dry run (a failed one stopped the remedy before it ran).
    dry_runs: list[TimelineStep] = []
    #: What ended it, in one line: the remedy that fixed it, a person, or the target itself.
    fixed_by: str
    decisions: list[TimelineStep]
    approvals: list[TimelineStep]
    notes: list[TimelineStep]
    facts: list[LearnedFact]
    #: The report's prose: the summary above, or with `[llm]` a narrative the language model
    #: wrote from these facts (agent/core/language_model.py), said by `narrative_source`.
    narrative: str = ""
    narrative_source: Literal["rules", "llm"] = "rules"
    #: Why the model's narrative is missing when one was asked for (it did not answer).
    narrative_note: str | None = None


def _fixed_by(detail: IncidentDetail) -> str:
    fixed = [c.action for c in detail.credits if c.fixed]
    people = [s for s in detail.timeline if s.kind == "resolved"]
    if detail.status in ("open", "awaiting_approval"):
        return "nothing yet: the incident is still open"
    if people and detail.status == "resolved" and not fixed:
        return f"resolved by a person ({people[-1].actor or '?'})"
    if fixed:
        return f"{fixed[-1]} fixed it"
    if detail.status == "recovered":
        return "the target recovered by itself; no remedy changed anything"
    if detail.status == "failed" and detail.summary.startswith("gave up"):
        return f"nothing: the agents {detail.summary}"  # with why (a failed dry run, say)
    if detail.status == "failed":
        return "nothing: the agents gave up and escalated to people"
    return "a later check found it healthy again"


def build_postmortem(detail: IncidentDetail, facts: list[LearnedFact]) -> Postmortem:
    """The postmortem of `detail` (which carries its timeline)."""
    first_check = min((c.ts for c in detail.evidence), default=detail.opened_at)
    start = min(first_check, detail.opened_at)
    end = detail.closed_at
    fixed_by = _fixed_by(detail)
    lasted = "still open" if end is None else f"lasted {end - start:.1f} s"
    summary = (
        f"{detail.target} was {detail.health} ({detail.situation}); {lasted}; "
        f"{len(detail.credits)} remedies tried; {fixed_by}. Status: {detail.status}."
    )
    steps = detail.timeline
    return Postmortem(
        incident=detail,
        summary=summary,
        impact_start=start,
        impact_end=end,
        time_to_detect_s=round(detail.opened_at - start, 3),
        time_to_resolve_s=None if end is None else round(end - start, 3),
        tried=detail.credits,
        fixed_by=fixed_by,
        dry_runs=[s for s in steps if s.kind == "dry_run"],
        decisions=[s for s in steps if s.kind == "decision"],
        approvals=[s for s in steps if s.kind == "approval"],
        notes=[s for s in steps if s.kind == "note"],
        facts=facts,
        narrative=summary,
    )
