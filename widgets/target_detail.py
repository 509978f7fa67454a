"""One target's detail in a modal: what is watched, how it is judged, and how it has been doing.

The Ops tab lists targets with a cut-down "now" column; Enter on one opens this. It shows the
target's definition as `webops target list` reads it (kind, address, every condition and context
condition in full, intervals and thresholds), the latest check's result in full, a latency
sparkline of its recent checks and its recent incidents (id, status, situation). Addresses,
conditions and check texts come from whoever defined or answers the target: they are drawn as
`Text` (widgets/literal_text.py), never parsed as markup. Escape closes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.text import Text

from agent.ops.evidence import IncidentDetail
from agent.ops.targets import TargetSpec
from widgets.detail_dialog import DetailDialog
from widgets.emotion_gauges import sparkline
from widgets.incident_detail import STYLES, when
from widgets.literal_text import assemble, literal

#: How many recent checks the sparkline plots.
SPARK_CHECKS = 24
#: How each health of the latest check is drawn.
HEALTH_STYLES = {"up": "green", "degraded": "yellow", "down": "bold red"}


@dataclass(frozen=True)
class LastCheck:
    """The latest check of a target this session saw, and the latencies (ms) it saw."""

    health: str
    latency_ms: float | None
    detail: str
    latencies: Sequence[float] = ()


@dataclass(frozen=True)
class TargetFacts:
    """What the dialog shows: the definition, the latest check (None before any was seen),
    the recent latencies (ms, oldest first) and the recent incidents (newest first)."""

    spec: TargetSpec
    last: LastCheck | None = None
    latencies: Sequence[float] = ()
    incidents: Sequence[IncidentDetail] = field(default_factory=list)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:g} s"


def target_lines(facts: TargetFacts) -> list[Text]:
    """The target as lines of plain, styled text."""
    spec = facts.spec
    lines = [
        assemble((f"target {spec.name}", "bold"), f" ({spec.kind}, {spec.criticality})"),
        assemble("address ", spec.address),
        Text(
            f"every {_seconds(spec.interval_s)}, retry {_seconds(spec.retry_s)} after a failing"
            f" check, timeout {_seconds(spec.timeout_s)}; incident after"
            f" {spec.failure_threshold} failing, resolved after {spec.success_threshold} passing"
        ),
        Text("conditions:", style="bold"),
    ]
    lines += [literal(f"  {c}") for c in spec.conditions] or [Text("  (none)")]
    if spec.context:
        lines.append(Text("context:", style="bold"))
        lines += [literal(f"  {c}") for c in spec.context]
    lines.append(Text("latest check:", style="bold"))
    last = facts.last
    if last is None:
        lines.append(Text("  (none since the workbench opened)"))
    else:
        ms = "-" if last.latency_ms is None else f"{last.latency_ms:.0f} ms"
        lines.append(assemble("  ", (last.health, HEALTH_STYLES.get(last.health, "")), f", {ms}"))
        lines.append(literal(f"  {last.detail or '(passed every condition)'}"))
    recent = list(facts.latencies)[-SPARK_CHECKS:]
    if recent:
        top = max(recent) or 1.0
        spark = sparkline([v / top for v in recent], len(recent))
        lines.append(
            Text(f"latency: {spark} ({len(recent)} checks, {min(recent):.0f}-{top:.0f} ms)")
        )
    lines.append(Text("recent incidents:", style="bold"))
    if not facts.incidents:
        lines.append(Text("  (none)"))
    for incident in facts.incidents:
        lines.append(
            assemble(
                f"  {incident.id} ",
                (incident.status, STYLES[incident.status]),
                " ",
                incident.situation,
                f" ({incident.health}), opened {when(incident.opened_at)}",
            )
        )
    return lines


class TargetDetailDialog(DetailDialog):
    """The detail of one target; Escape (or Enter) closes it."""

    def __init__(self, facts: TargetFacts) -> None:
        super().__init__(literal(f"Target {facts.spec.name}"), target_lines(facts), kind="target")
        self.facts = facts
