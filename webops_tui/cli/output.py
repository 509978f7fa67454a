"""How commands print: one JSON document on stdout for scripts, rich tables for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console


def emit_json(data: BaseModel | Sequence[BaseModel] | dict[str, Any] | list[Any]) -> None:
    """Print exactly one JSON document, built from the same models as the human output."""
    document: Any
    if isinstance(data, dict) or (isinstance(data, list) and data and isinstance(data[0], dict)):
        document = data
    elif hasattr(data, "model_dump"):
        document = data.model_dump(mode="json")
    else:
        document = [item.model_dump(mode="json") for item in data]
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


#: How wide a line may get when stdout is a pipe or a file: wide enough that no cell folds
#: mid-word (`clear-cach│e`); a script splits columns on whitespace.
PIPE_WIDTH = 1000


def console() -> Console:
    """A console that shows strings literally (no markup, no escape sequences from stored
    text: a `[/]` prints as `[/]`, an OSC 52 never reaches the terminal); rich tables for a
    person at a terminal, plain text when stdout is a pipe or a file: no box drawing, no
    colour, no folding, columns separated by spaces (as `ps` or `kubectl get` print them), so
    `grep`, `awk` and `cut` work on it. Styled lines are built as `Text`
    (`widgets.literal_text.assemble`)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from widgets.literal_text import printable, scrub

    piped = not sys.stdout.isatty()

    class LiteralConsole(Console):
        def render_str(self, text: str, **options: Any) -> Text:
            return super().render_str(printable(text), **options)

        def print(self, *objects: Any, **options: Any) -> None:
            cleaned = [scrub(o) if isinstance(o, Text) else o for o in objects]
            if piped:
                for thing in cleaned:
                    if isinstance(thing, Table):
                        thing.box = None
                        thing.show_edge = False
                        thing.pad_edge = False
            super().print(*cleaned, **options)

    if piped:
        return LiteralConsole(highlight=False, markup=False, width=PIPE_WIDTH, no_color=True)
    return LiteralConsole(highlight=False, markup=False)


def print_rows(rows: list[dict[str, Any]], columns: list[str], empty: str) -> None:
    """`rows` as a table of `columns` (a cell folds rather than cuts), or `empty` when none."""
    from rich.table import Table

    if not rows:
        console().print(empty)
        return
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console().print(table)


def error_line(message: str) -> None:
    """One line on stderr, never a traceback: what was wrong, in the operator's terms."""
    from widgets.literal_text import printable

    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    sys.stderr.write(f"webops: error: {printable(first, newlines=False)}\n")


def warning_line(message: str) -> None:
    """One line on stderr about something the command worked around (it still ran)."""
    from widgets.literal_text import printable

    sys.stderr.write(f"webops: warning: {printable(message, newlines=False)}\n")
