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
    """Rich tables for a person at a terminal; plain text when stdout is a pipe or a file:
    no box drawing, no colour, no folding, columns separated by spaces (as `ps` or `kubectl
    get` print them), so `grep`, `awk` and `cut` work on it."""
    from rich.console import Console
    from rich.table import Table

    if sys.stdout.isatty():
        return Console(highlight=False)

    class PlainConsole(Console):
        def print(self, *objects: Any, **options: Any) -> None:
            for thing in objects:
                if isinstance(thing, Table):
                    thing.box = None
                    thing.show_edge = False
                    thing.pad_edge = False
            super().print(*objects, **options)

    return PlainConsole(highlight=False, width=PIPE_WIDTH, no_color=True)


def error_line(message: str) -> None:
    """One line on stderr, never a traceback: what was wrong, in the operator's terms."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    sys.stderr.write(f"webops: error: {first}\n")
