"""One target's detail in a modal: what is watched, how it is judged, and how it has been doing.

The Ops tab lists targets with a cut-down "now" column; Enter on one opens this. It shows the
target's definition as `webops target list` reads it (kind, address, every condition and context
condition in full, intervals and thresholds), the latest check's result in full, a latency
sparkline of its recent checks, its recent incidents (id, status, situation) and whether it is
in maintenance (until when, and why). With a `silence` callback, s silences the target (asking
how long and why, SilenceDialog) and S ends its silence, so an on-call engineer need not switch
to the CLI; the detail is redrawn with the result. Addresses,
conditions and check texts come from whoever defined or answers the target: they are drawn as
`Text` (widgets/literal_text.py), never parsed as markup. Escape closes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer

from agent.errors import WebopsError
from agent.ops.evidence import IncidentDetail
from agent.ops.targets import TargetSpec
from widgets.detail_dialog import DetailDialog
from widgets.emotion_gauges import sparkline
from widgets.incident_detail import STYLES, when
from widgets.literal_text import assemble, literal
from widgets.silence_dialog import SilenceDialog

#: How many recent checks the sparkline plots.
SPARK_CHECKS = 24
#: How each health of the latest check is drawn.
HEALTH_STYLES = {"up": "green", "degraded": "yellow", "down": "bold red"}

#: Silences a target (name, seconds, reason) or, with seconds None, ends its silence; returns
#: what keeps it in maintenance afterwards ("maintenance until ...: why") or None. Raises
#: `WebopsError` saying why it cannot (read-only, a window that is not a silence, ...).
TargetSilence = Callable[[str, float | None, str], Awaitable[str | None]]


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
    #: "maintenance until ...: why" while a silence or maintenance window covers the target.
    maintenance: str | None = None


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
    ]
    if facts.maintenance:
        lines.append(literal(facts.maintenance, style="yellow"))
    lines.append(Text("conditions:", style="bold"))
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
    """The detail of one target; s silences it, S ends its silence; Escape (or Enter) closes."""

    BINDINGS = [
        Binding("s", "silence", "Silence", id="target.silence"),
        Binding("S", "unsilence", "Unsilence", id="target.unsilence"),
    ]

    def __init__(
        self, facts: TargetFacts, silence: TargetSilence | None = None, *, read_only: bool = False
    ) -> None:
        """`read_only` (`webops --read-only`): s and S say that nothing is changed."""
        hint = "s silence, S end the silence; Escape closes" if silence else "Escape closes"
        title = literal(f"Target {facts.spec.name}")
        super().__init__(title, target_lines(facts), kind="target", hint=hint)
        self.facts = facts
        self._silence = silence
        self._read_only = read_only

    def compose(self) -> ComposeResult:
        yield from super().compose()
        if self._silence is not None:
            yield Footer()

    def _refused(self) -> bool:
        if self._read_only:
            said = "read-only: no silence is set or ended (started with --read-only)"
            self.notify(said, severity="warning")
        return self._silence is None or self._read_only

    def action_silence(self) -> None:
        if self._refused():
            return

        def asked(answer: tuple[float, str] | None) -> None:
            if answer is not None:
                self.run_worker(self._do(*answer), exclusive=True, group="target-silence")

        self.app.push_screen(SilenceDialog(self.facts.spec.name), asked)

    def action_unsilence(self) -> None:
        if not self._refused():
            self.run_worker(self._do(None, ""), exclusive=True, group="target-silence")

    async def _do(self, seconds: float | None, reason: str) -> None:
        assert self._silence is not None
        name = self.facts.spec.name
        try:
            held = await self._silence(name, seconds, reason)
        except WebopsError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        self.facts = replace(self.facts, maintenance=held)
        await self.replace_lines(target_lines(self.facts))
        said = f"{name}: {held}" if held else f"{name}: silence ended"
        self.notify(said, markup=False)
