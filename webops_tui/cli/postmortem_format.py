"""A postmortem (agent/ops/postmortem.py) as Markdown or plain text, for `webops incident report`.

The report is pasted into wikis and tickets, so text from targets and agents must not break
it: escape sequences and control characters are removed (`printable`), and in Markdown the
characters that would start a heading, a table cell, code, emphasis, a link or HTML are
escaped, and newlines folded, so every line of the timeline stays one list item.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from agent.ops.postmortem import Postmortem
from agent.ops.timeline import TimelineStep
from widgets.literal_text import printable

#: Markdown's inline specials: each is written with a backslash before it.
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#!~])")
NARRATIVE_TITLE = "Narrative (written by the language model)"
#: A line start Markdown would read as a list or a numbered item.
_LINE_START = re.compile(r"^(\s*)([-+]|\d+[.)])(\s)")


def md(text: str) -> str:
    """`text` safe inside one Markdown line: no escapes, specials escaped, one line."""
    flat = " ".join(printable(text, newlines=False).split())
    return _LINE_START.sub(r"\1\\\2\3", _SPECIAL.sub(r"\\\1", flat))


def plain(text: str) -> str:
    return " ".join(printable(text, newlines=False).split())


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _seconds(value: float | None) -> str:
    return "still open" if value is None else f"{value:.1f} s"


def _step(step: TimelineStep, clean: Callable[[str], str]) -> str:
    """One timeline line: when, what kind, who, what (the kind said once)."""
    body = "" if step.text == step.kind else clean(step.text)
    kind = "" if step.text.startswith(f"{step.kind}:") else f"{step.kind}: "
    actor = clean(step.actor or "") + (": " if step.actor and body else "")
    return f"{_when(step.ts)} {kind}{actor}{body}"


def _sections(report: Postmortem, *, for_markdown: bool) -> list[tuple[str, list[str]]]:
    """The report's sections as (title, lines), with text escaped by `md` or `plain`."""
    clean = md if for_markdown else plain
    i = report.incident
    overview = [
        f"Target: {clean(i.target)}; symptom: {clean(i.situation)} ({i.health})",
        f"Status: {i.status}; owner: {clean(i.owner or '-')}",
        f"Impact window: {_when(report.impact_start)} to {_when(report.impact_end)}",
        f"Time to detect: {_seconds(report.time_to_detect_s)} (first failing check to opened)",
        f"Time to resolve: {_seconds(report.time_to_resolve_s)} (first failing check to closed)",
    ]
    if i.acknowledged_by:
        overview.append(f"Acknowledged by {clean(i.acknowledged_by)} at {_when(i.acknowledged_at)}")
    timeline = [_step(s, clean) for s in i.timeline] or ["(nothing recorded)"]
    tried = [
        f"{clean(c.action)}: {'fixed it' if c.fixed else 'did not fix it'} ({clean(c.why)})"
        for c in report.tried
    ] or ["(no remedy was tried)"]
    tried.extend(clean(s.text) for s in report.dry_runs)
    tried.append(f"What fixed it: {clean(report.fixed_by)}")
    facts = [
        f"{clean(f.agent)} knows: {clean(f.subject)} {clean(f.predicate)} {clean(f.value)} "
        f"(confidence {f.confidence:.2f})"
        for f in report.facts
    ] or ["(no facts came from this incident yet; agents reflect when they rest)"]
    notes = [f"{_when(s.ts)} {clean(s.actor or '-')}: {clean(s.text)}" for s in report.notes]
    summary = [clean(report.summary)]
    if report.narrative_note:
        summary.append(f"({clean(report.narrative_note)})")
    sections = [("Summary", summary)]
    if report.narrative_source == "llm":  # the model's prose, paragraph by paragraph
        paragraphs = [clean(p) for p in re.split(r"\n\s*\n", report.narrative) if p.strip()]
        sections.append((NARRATIVE_TITLE, paragraphs))
    sections += [
        ("Impact", overview),
        ("Timeline", timeline),
        ("What the agents tried", tried),
        ("Facts learned", facts),
    ]
    if notes:
        sections.append(("Notes", notes))
    return sections


def markdown(report: Postmortem) -> str:
    """The postmortem as Markdown: a title, then one `##` section each, list items within."""
    i = report.incident
    out = [f"# Postmortem: incident {i.id} on {md(i.target)}", ""]
    for title, lines in _sections(report, for_markdown=True):
        out.append(f"## {title}")
        out.append("")
        if title in ("Summary", NARRATIVE_TITLE):
            out.extend(line for paragraph in lines for line in (paragraph, ""))
            out.pop()
        else:
            out.extend(f"- {line}" for line in lines)
        out.append("")
    return "\n".join(out)


def text(report: Postmortem) -> str:
    """The postmortem as plain text (escape sequences removed, nothing escaped)."""
    i = report.incident
    out = [f"Postmortem: incident {i.id} on {plain(i.target)}", ""]
    for title, lines in _sections(report, for_markdown=False):
        out.append(title)
        out.extend(f"  {line}" for line in lines)
        out.append("")
    return "\n".join(out)
