"""Where focus goes when a tab opens, and where it goes when the operator leaves an input.

A tab key must work from any focus. Two things broke that: a widget that keeps focus inside
the pane being hidden pulls its tab back (Textual activates the pane of whatever gets focus),
and after a switch nothing had focus, so arrows did nothing. The screen therefore drops focus
before it switches and then focuses the tab's main widget named here, so arrows work at once.
"""

from __future__ import annotations

from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input

#: The widget each tab opens on (a selector inside the tab's pane): the list or table the
#: arrows move in, or the chat's input (Chat is for typing).
MAIN_WIDGET: dict[str, str] = {
    "team": "#roster DataTable",
    "chat": "#chat-input",
    "memory": "#memory-results",
    "skills": "#skills-table",
    "approvals": "#approvals-table",
    "ops": "#targets-table",
    "activity": "#activity-log",
}


def _first_focusable(pane: Widget, *, inputs: bool) -> Widget | None:
    for widget in pane.query("*"):
        if widget.focusable and (inputs or not isinstance(widget, Input)):
            return widget
    return None


def main_widget(screen: Screen[None], tab: str) -> Widget | None:
    """The widget `tab` opens on: its named main widget, else its first focusable one."""
    try:
        pane = screen.query_one(f"TabPane#{tab}")
    except NoMatches:
        return None
    try:
        return pane.query_one(MAIN_WIDGET.get(tab, "#-none-"))
    except NoMatches:
        return _first_focusable(pane, inputs=True)


def after_input(screen: Screen[None], tab: str) -> Widget | None:
    """Where focus goes when the operator leaves an input with Escape: the tab's main widget
    unless that is the input itself (Chat), then the pane's first widget that is not one."""
    target = main_widget(screen, tab)
    if target is None or not isinstance(target, Input):
        return target
    pane = screen.query_one(f"TabPane#{tab}")
    return _first_focusable(pane, inputs=False)
