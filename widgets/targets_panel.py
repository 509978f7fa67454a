"""Targets and incidents: status, latency sparkline, and who owns which open incident.

Checks and incident changes come as kernel events, many a second with thousands of targets:
each is recorded at once, and the first of a burst arms one repaint a quarter of a second later.
A repaint draws only the rows whose targets changed, in place (5,000 targets, ~170 checks a
second: some forty rows a repaint, not 5,000); only a new target or a new filter redraws the
table, a chunk of rows at a time (widgets/table_rows.py), so keys answer meanwhile.

A target is `up`, `degraded` (answering, but slow or partial) or `DOWN`, each its own word and
colour, and so is the fault an incident was opened for. Closed incidents stay listed under the
open ones, newest first: those of earlier runs (`show_history`, read from the database when the
workbench opens) and those closed since, so that Enter (or a click) on any of them asks for its
detail (`IncidentSelected`: the checks that confirmed it, each remedy's credit). Names, symptoms and
details come from targets and agents: they are drawn as `Text`, never parsed as markup.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker

from agent.events import IncidentChanged, KernelEvent, TargetChecked
from agent.ops.confirmation import Health
from agent.ops.evidence import IncidentDetail
from widgets.bursts import OncePerBurst
from widgets.emotion_gauges import sparkline
from widgets.filter_bar import FilterBar
from widgets.kernel_messages import KernelEventArrived
from widgets.literal_text import literal
from widgets.table_rows import Cell, fill, insert, put, refill
from widgets.target_detail import LastCheck

HISTORY = 24
#: What Ops says with no target, and which keys (or command) give it one.
NO_TARGETS = (
    "No targets yet. Add one from a shell (webops target add shop --address "
    "https://shop.example/health), "
    "or press ctrl+p and demo to start the demo world."
)
NO_MATCH = "No target matches the filter; Escape clears it."
#: What a target listed from the database says until this session checks it.
UNCHECKED = "not checked yet (the demo and webops run check targets)"
#: Closed incidents kept listed (newest first) under the open ones, to look into: the history
#: read at start and those closed since, together.
RECENT_CLOSED = 200
#: How an incident that has ended stands.
CLOSED = ("resolved", "recovered", "failed")
#: How each health reads in the status column.
WORDS: dict[Health, str] = {"up": "up", "degraded": "degraded", "down": "DOWN"}
#: What the status column says of a target in a silence or a maintenance window.
MAINTENANCE = "maintenance"
#: How long the first change of a burst waits for the rest before the tables are redrawn.
REPAINT_DELAY_S = 0.25
#: How long a key typed into the filter waits for the next one (a word typed is one redraw).
FILTER_DELAY_S = 0.1
COLUMNS = ("target", "status", "ms", "latency", "now")


@dataclass
class _TargetState:
    healthy: bool | None = None
    health: Health = "up"
    latency_ms: float | None = None
    detail: str = ""
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))
    #: "maintenance until ...: reason" while a silence or maintenance window covers it.
    maintenance: str | None = None


def _now(state: _TargetState) -> str:
    """The "now" column: the latest check, after until when and why a target is held (the
    status column already says "maintenance", so the column starts with "until")."""
    if not state.maintenance:
        return state.detail
    return f"{state.maintenance.removeprefix(MAINTENANCE + ' ')}; {state.detail}"


class TargetsPanel(Vertical):
    """Fed with kernel events; repaints once per burst of them, never per event."""

    KERNEL_EVENTS: ClassVar[tuple[type[KernelEvent], ...]] = (TargetChecked, IncidentChanged)
    COMPONENT_CLASSES = {"targets-panel--ok", "targets-panel--degraded", "targets-panel--down"}
    DEFAULT_CSS = """
    TargetsPanel {
        height: 1fr;
    }
    TargetsPanel > #targets-table {
        height: 1fr;
    }
    TargetsPanel > #targets-empty {
        padding: 0 1;
        color: $text-muted;
    }
    TargetsPanel > #incidents-title {
        padding: 0 1;
        color: $text-muted;
    }
    TargetsPanel > #incidents-table {
        height: 1fr;
    }
    TargetsPanel > .targets-panel--ok { color: $success; }
    TargetsPanel > .targets-panel--degraded { color: $warning; }
    TargetsPanel > .targets-panel--down { color: $error; text-style: bold; }
    """

    class IncidentSelected(Message):
        """The operator chose an incident row (Enter or a click): show its detail."""

        def __init__(self, incident_id: int) -> None:
            super().__init__()
            self.incident_id = incident_id

    class TargetSelected(Message):
        """The operator chose a target row (Enter or a click): show its detail."""

        def __init__(self, target: str) -> None:
            super().__init__()
            self.target = target

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.targets: dict[str, _TargetState] = {}
        self.incidents: dict[int, IncidentChanged] = {}
        #: The latest closed incidents by id (the newest `RECENT_CLOSED` are kept).
        self.closed: dict[int, IncidentChanged] = {}
        #: The incidents seen resolved, live or in the history (each once, however told).
        self.resolved_ids: set[int] = set()
        self.dirty = False
        #: Targets whose rows are out of date (drawn in place at the next repaint).
        self.dirty_targets: set[str] = set()
        #: Which targets are shown may have changed (a new one, a new filter): redraw the table.
        self.rows_stale = True
        #: The targets shown, in order (what the table holds once a refill is done).
        self.shown_targets: list[str] = []
        #: The refill under way, if any (rows are added to the table only once it is done).
        self._filling: Worker[None] | None = None
        #: What the `/` filter holds (lower case); rows without every word of it are hidden.
        self.filter_text = ""
        self._repaint = OncePerBurst(self, REPAINT_DELAY_S, self.repaint)
        self._refilter = OncePerBurst(self, FILTER_DELAY_S, self.repaint)

    def compose(self) -> ComposeResult:
        yield FilterBar(placeholder="filter targets and incidents…", hides=True, id="ops-filter")
        targets: DataTable[str | Text] = DataTable(id="targets-table", cursor_type="row")
        for label in COLUMNS:
            targets.add_column(label, key=label)
        yield targets
        yield Static(NO_TARGETS, id="targets-empty")
        yield Static("Incidents", id="incidents-title")
        incidents: DataTable[str | Text] = DataTable(id="incidents-table", cursor_type="row")
        for label in ("#", "target", "symptom", "health", "status", "owner", "steps"):
            incidents.add_column(label, key=label)
        yield incidents

    @on(Input.Changed, "#ops-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        wanted = event.value.strip().casefold()
        if wanted != self.filter_text:
            self.filter_text = wanted
            self.dirty = self.rows_stale = True
            self._refilter.poke()

    @on(FilterBar.Cleared, "#ops-filter")
    def _filter_cleared(self, event: FilterBar.Cleared) -> None:
        event.stop()
        self.query_one("#targets-table", DataTable).focus()

    def _shows(self, *words: str) -> bool:
        """Whether a row with these words passes the filter (every word typed, anywhere)."""
        row = " ".join(words).casefold()
        return all(part in row for part in self.filter_text.split())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter or a click on an incident or a target: ask for its detail (the screen reads
        it)."""
        if event.row_key.value is None:
            return
        if event.data_table.id == "incidents-table":
            event.stop()
            self.post_message(self.IncidentSelected(int(event.row_key.value)))
        elif event.data_table.id == "targets-table":
            event.stop()
            self.post_message(self.TargetSelected(event.row_key.value))

    def last_check(self, target: str) -> LastCheck | None:
        """What this session's checks of `target` said (the latest in full, the recent
        latencies), for its detail; None before any check of it was seen."""
        state = self.targets.get(target)
        if state is None or state.healthy is None:
            return None
        return LastCheck(state.health, state.latency_ms, state.detail, list(state.latencies))

    def on_kernel_event_arrived(self, message: KernelEventArrived) -> None:
        event = message.event
        if isinstance(event, TargetChecked):
            self.record_check(event)
        elif isinstance(event, IncidentChanged):
            self.record_incident(event)

    def record_check(self, event: TargetChecked) -> None:
        state = self._state(event.target)
        state.healthy = event.healthy
        state.health = event.health
        state.latency_ms = event.latency_ms
        state.detail = event.detail
        state.maintenance = event.maintenance
        if event.latency_ms is not None:
            state.latencies.append(event.latency_ms)
        self._changed()

    def _state(self, name: str) -> _TargetState:
        """`name`'s state, marked for redrawing (a new target: the table is redrawn)."""
        state = self.targets.get(name)
        if state is None:
            self.targets[name] = state = _TargetState(detail=UNCHECKED)
            self.rows_stale = True
        self.dirty_targets.add(name)
        return state

    def record_incident(self, event: IncidentChanged) -> None:
        if event.status in CLOSED:
            self.incidents.pop(event.incident_id, None)
            self._close(event)
        elif event.incident_id not in self.closed:  # a late step of one already closed: no
            self.incidents[event.incident_id] = event
        self._changed()

    def show_targets(self, latencies: Mapping[str, Sequence[float]]) -> None:
        """Every stored target, with the latencies of its stored checks, before any check of
        this session: an operator sees what is watched (and Enter shows it) at once."""
        for name, seen in latencies.items():
            if name not in self.targets:
                self._state(name).latencies.extend(seen)
        self._changed()

    def show_maintenance(self, held: Mapping[str, str | None]) -> None:
        """Targets in a silence or maintenance window when the workbench opens or a person
        silences one (later checks say it themselves): each shows "maintenance" and until
        when, and why; None: no longer in maintenance."""
        for name, says in held.items():
            self._state(name).maintenance = says
        self._changed()

    def show_history(self, found: Sequence[IncidentDetail]) -> None:
        """The stored incidents (earlier runs' too), as `webops incidents --all` lists them.
        A live event that said meanwhile an incident is still open is newer unless the stored
        row says it closed (closing is final); one that said it closed is kept."""
        for detail in found:
            closed = detail.status in CLOSED
            if detail.id in self.closed or (detail.id in self.incidents and not closed):
                continue
            change = IncidentChanged(
                incident_id=detail.id,
                target=detail.target,
                situation=detail.situation,
                status=detail.status,
                owner=detail.owner,
                steps=detail.steps,
                summary=detail.summary,
                health=detail.health,
                ts=detail.closed_at or detail.opened_at,
            )
            if closed:
                self.incidents.pop(detail.id, None)
                self._close(change)
            else:
                self.incidents[detail.id] = change
        self._changed()

    def _close(self, event: IncidentChanged) -> None:
        """Keep `event` among the closed ones; past `RECENT_CLOSED`, the oldest go."""
        self.closed[event.incident_id] = event
        if event.status == "resolved":
            self.resolved_ids.add(event.incident_id)
        if len(self.closed) > RECENT_CLOSED:
            for old in sorted(self.closed)[: len(self.closed) - RECENT_CLOSED]:
                del self.closed[old]

    @property
    def resolved(self) -> int:
        """How many incidents were resolved (this session and in the history read)."""
        return len(self.resolved_ids)

    def _changed(self) -> None:
        self.dirty = True
        self._repaint.poke()

    def repaint(self) -> None:
        """Draw the current state (at most a few times a second, once per burst)."""
        if not self.dirty:
            return
        self.dirty = False
        # Partial: the colour only, so a highlighted row keeps its background under the word.
        styles = {
            "up": self.get_component_rich_style("targets-panel--ok", partial=True),
            "degraded": self.get_component_rich_style("targets-panel--degraded", partial=True),
            "down": self.get_component_rich_style("targets-panel--down", partial=True),
        }
        self._repaint_targets(styles)
        shown = {
            i.incident_id: i for i in sorted(self.incidents.values(), key=lambda i: i.incident_id)
        }
        for closed_id in sorted(self.closed, reverse=True):  # newest first
            shown.setdefault(closed_id, self.closed[closed_id])
        shown = {
            key: inc
            for key, inc in shown.items()
            if self._shows(
                str(key), inc.target, inc.situation, WORDS[inc.health], inc.status, inc.owner or ""
            )
        }
        incident_rows: dict[str, list[Cell]] = {
            str(inc.incident_id): [
                str(inc.incident_id),
                literal(inc.target),
                literal(inc.situation, newlines=False),
                Text(WORDS[inc.health], style=styles[inc.health]),
                inc.status,
                literal(inc.owner or "-"),
                str(inc.steps),
            ]
            for inc in shown.values()
        }
        fill(self.query_one("#incidents-table", DataTable), incident_rows)
        self.query_one("#incidents-title", Static).update(
            f"Incidents: {len(self.incidents)} open, {self.resolved} resolved"
        )

    def _word(self, state: _TargetState) -> str:
        word = WORDS[state.health] if state.healthy is not None else "-"
        return MAINTENANCE if state.maintenance else word

    def _passes(self, name: str) -> bool:
        state = self.targets[name]
        return self._shows(name, self._word(state), state.detail, state.maintenance or "")

    def _repaint_targets(self, styles: Mapping[str, Style]) -> None:
        """Redraw the rows of the targets that changed, in place; if which targets are shown
        changed (a new one, the filter, a change that takes one in or out of the filter),
        refill the table in the background."""
        dirty, self.dirty_targets = self.dirty_targets, set()
        if not self.rows_stale and self.filter_text:
            shown = set(self.shown_targets)
            self.rows_stale = any((name in shown) != self._passes(name) for name in dirty)
        table: DataTable[Cell] = self.query_one("#targets-table", DataTable)
        if self.rows_stale:
            self.rows_stale = False
            before = self.shown_targets
            self.shown_targets = [name for name in sorted(self.targets) if self._passes(name)]
            added = set(self.shown_targets).difference(before)
            filling = self._filling is not None and not self._filling.is_finished
            if not filling and len(before) + len(added) == len(self.shown_targets):
                insert(table, self.shown_targets, sorted(added), lambda n: self._cells(n, styles))
            else:
                self._filling = self.run_worker(
                    refill(table, self.shown_targets, lambda n: self._cells(n, styles)),
                    group="targets-refill",
                    exclusive=True,
                    exit_on_error=False,
                )
        else:
            for name in dirty.intersection(self.shown_targets):
                for column, cell in zip(COLUMNS, self._cells(name, styles), strict=True):
                    put(table, name, column, cell)
        empty = self.query_one("#targets-empty", Static)
        empty.display = not self.shown_targets
        empty.update(NO_MATCH if self.targets else NO_TARGETS)

    def _cells(self, name: str, styles: Mapping[str, Style]) -> list[Cell]:
        """The target's row, from its state now."""
        state = self.targets[name]
        word = self._word(state)
        top = max(state.latencies, default=1.0) or 1.0
        spark = sparkline([v / top for v in state.latencies], HISTORY)
        status = Text(word, style=styles[state.health] if state.healthy is not None else "")
        if state.maintenance:
            status.stylize(styles["degraded"])
        ms = f"{state.latency_ms:.0f}" if state.latency_ms is not None else "-"
        return [literal(name), status, ms, spark, literal(_now(state), newlines=False)]
