"""Skills of the selected agent: proficiency, level, practice, and autonomy with its reason.

The selected agent comes down data-bound (`agent`). The panel knows when what it shows is out
of date (another agent selected, an action finished) and says so once per burst (`Stale`);
the screen reads the skills and hands them back (`show_skills`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import var
from textual.widgets import DataTable, Static

from agent.events import ActionFinished, KernelEvent
from agent.skills.proficiency import SkillView
from widgets.bursts import OncePerBurst
from widgets.emotion_gauges import gauge
from widgets.kernel_messages import KernelEventArrived
from widgets.literal_text import literal

#: How long the panel gathers reasons to reload before it asks once.
STALE_DELAY_S = 0.5


class SkillsPanel(Vertical):
    KERNEL_EVENTS: ClassVar[tuple[type[KernelEvent], ...]] = (ActionFinished,)
    DEFAULT_CSS = """
    SkillsPanel {
        height: 1fr;
    }
    SkillsPanel > DataTable {
        height: 1fr;
    }
    SkillsPanel > #skills-why {
        height: auto;
        max-height: 6;
        padding: 0 1;
        color: $text-muted;
    }
    """

    class Stale(Message):
        """The skills shown are out of date: read them again for the selected agent."""

    #: The selected agent (bound to the screen's); `shown_agent` is whose skills are shown.
    agent: var[str | None] = var(None)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.views: list[SkillView] = []
        self.shown_agent: str | None = None
        self._stale = OncePerBurst(self, STALE_DELAY_S, lambda: self.post_message(self.Stale()))

    def watch_agent(self, name: str | None) -> None:
        if name is not None:
            self._stale.poke()

    def on_kernel_event_arrived(self, message: KernelEventArrived) -> None:
        self._stale.poke()  # an action finished: practice, proficiency or autonomy moved

    def compose(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(id="skills-table", cursor_type="row")
        for label, key in (
            ("skill", "name"),
            ("proficiency", "bar"),
            ("level", "level"),
            ("practice", "practice"),
            ("autonomous", "autonomous"),
        ):
            table.add_column(label, key=key)
        yield table
        yield Static("", id="skills-why")

    def show_skills(self, agent: str, views: Sequence[SkillView]) -> None:
        self.shown_agent = agent
        self.views = list(views)
        self.border_title = f"Skills · {agent}"
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for v in self.views:
            bar = Text(gauge(v.proficiency, 10), style="bold")
            bar.append(f" {v.proficiency:.2f}")
            table.add_row(
                v.name,
                bar,
                v.level,
                str(v.practice_count),
                "yes" if v.autonomous else "no",
                key=v.name,
            )
        if self.views:
            table.move_cursor(row=min(row, len(self.views) - 1))
            self._explain(table.cursor_row)
        else:
            self.query_one("#skills-why", Static).update(
                literal(
                    f"{agent} has not used a skill yet; skills are learned on first use. "
                    "Press c to ask it for something, or ctrl+p and demo to watch a team learn."
                )
            )

    def _explain(self, row: int) -> None:
        if 0 <= row < len(self.views):
            v = self.views[row]
            self.query_one("#skills-why", Static).update(
                literal(f"{v.name}: {v.successes} ok, {v.failures} failed. Autonomy: {v.why}")
            )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._explain(event.cursor_row)
