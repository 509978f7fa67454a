"""Targets and incidents: status, latency sparkline, and who owns which open incident.

Checks and incident changes come as kernel events, many a second with thousands of targets:
each is recorded at once, and the first of a burst arms one repaint a quarter of a second later.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from agent.events import IncidentChanged, KernelEvent, TargetChecked
from widgets.bursts import OncePerBurst
from widgets.emotion_gauges import sparkline
from widgets.kernel_messages import KernelEventArrived

HISTORY = 24
#: How long the first change of a burst waits for the rest before the tables are redrawn.
REPAINT_DELAY_S = 0.25


@dataclass
class _TargetState:
    healthy: bool | None = None
    latency_ms: float | None = None
    detail: str = ""
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))


class TargetsPanel(Vertical):
    """Fed with kernel events; repaints once per burst of them, never per event."""

    KERNEL_EVENTS: ClassVar[tuple[type[KernelEvent], ...]] = (TargetChecked, IncidentChanged)
    COMPONENT_CLASSES = {"targets-panel--ok", "targets-panel--down"}
    DEFAULT_CSS = """
    TargetsPanel {
        height: 1fr;
    }
    TargetsPanel > #targets-table {
        height: 1fr;
    }
    TargetsPanel > #incidents-title {
        padding: 0 1;
        color: $text-muted;
    }
    TargetsPanel > #incidents-table {
        height: 1fr;
    }
    TargetsPanel > .targets-panel--ok { color: $success; }
    TargetsPanel > .targets-panel--down { color: $error; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.targets: dict[str, _TargetState] = {}
        self.incidents: dict[int, IncidentChanged] = {}
        self.resolved = 0
        self.dirty = False
        self._repaint = OncePerBurst(self, REPAINT_DELAY_S, self.repaint)

    def compose(self) -> ComposeResult:
        targets: DataTable[str | Text] = DataTable(id="targets-table", cursor_type="row")
        for label in ("target", "status", "ms", "latency", "now"):
            targets.add_column(label, key=label)
        yield targets
        yield Static("Incidents", id="incidents-title")
        incidents: DataTable[str] = DataTable(id="incidents-table", cursor_type="row")
        for label in ("#", "target", "symptom", "status", "owner", "steps"):
            incidents.add_column(label, key=label)
        yield incidents

    def on_kernel_event_arrived(self, message: KernelEventArrived) -> None:
        event = message.event
        if isinstance(event, TargetChecked):
            self.record_check(event)
        elif isinstance(event, IncidentChanged):
            self.record_incident(event)

    def record_check(self, event: TargetChecked) -> None:
        state = self.targets.setdefault(event.target, _TargetState())
        state.healthy = event.healthy
        state.latency_ms = event.latency_ms
        state.detail = event.detail
        if event.latency_ms is not None:
            state.latencies.append(event.latency_ms)
        self._changed()

    def record_incident(self, event: IncidentChanged) -> None:
        if event.status in ("resolved", "recovered", "failed"):
            self.incidents.pop(event.incident_id, None)
            self.resolved += event.status == "resolved"
        else:
            self.incidents[event.incident_id] = event
        self._changed()

    def _changed(self) -> None:
        self.dirty = True
        self._repaint.poke()

    def repaint(self) -> None:
        """Draw the current state (at most a few times a second, once per burst)."""
        if not self.dirty:
            return
        self.dirty = False
        ok = self.get_component_rich_style("targets-panel--ok")
        down = self.get_component_rich_style("targets-panel--down")
        table = self.query_one("#targets-table", DataTable)
        table.clear()
        for name, state in sorted(self.targets.items()):
            top = max(state.latencies, default=1.0) or 1.0
            spark = sparkline([v / top for v in state.latencies], HISTORY)
            status = Text("ok", style=ok) if state.healthy else Text("DOWN", style=down)
            ms = f"{state.latency_ms:.0f}" if state.latency_ms is not None else "-"
            table.add_row(name, status, ms, spark, state.detail[:40], key=name)
        incidents = self.query_one("#incidents-table", DataTable)
        incidents.clear()
        for inc in sorted(self.incidents.values(), key=lambda i: i.incident_id):
            incidents.add_row(
                str(inc.incident_id),
                inc.target,
                inc.situation,
                inc.status,
                inc.owner or "-",
                str(inc.steps),
                key=str(inc.incident_id),
            )
        self.query_one("#incidents-title", Static).update(
            f"Incidents: {len(self.incidents)} open, {self.resolved} resolved"
        )
