"""Text from people, agents, targets, runbooks and checks, made safe to put on a terminal.

Anything stored can hold brackets (`[/]`, `[link=x]`) that rich and Textual would read as markup
and crash on, and escape sequences (OSC 52 clipboard writes, OSC 0 titles, `ESC[2J`) that would
reach the operator's terminal raw. `printable` removes the control sequences; `literal` wraps the
result in `rich.text.Text`, which is never parsed as markup. Both the widgets and the CLI use
this one module, so a panel and a listing show the same characters.
"""

from __future__ import annotations

import re

from rich.style import Style
from rich.text import Text

# ESC-introduced sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC strings (up to BEL or ST),
# then any other two-byte escape; the same for the 8-bit C1 introducers (CSI 0x9b, OSC 0x9d ...).
_SEQUENCE = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?              # CSI, its parameters and final byte
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])       # OSC, DCS, SOS, PM, APC ...
      [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?         # ... up to BEL or ST (or the end)
    | \x1b[ -/]*[0-~]?                              # any other escape (ESC c, ESC ( B ...)
    """,
    re.VERBOSE,
)
# What is left of C0 (but newline and tab), DEL and C1 after the sequences are gone.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str, *, newlines: bool = True) -> str:
    """`text` without escape sequences or control characters; tab and (if `newlines`) newline kept.

    A carriage return becomes nothing (it would let later text overwrite earlier text); with
    `newlines=False` newlines and tabs become spaces, for one-line cells.
    """
    text = _CONTROL.sub("", _SEQUENCE.sub("", text))
    if not newlines:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


def literal(text: str, style: str | Style = "", *, newlines: bool = True) -> Text:
    """`text` as `Text`: shown exactly as written (brackets and all), controls removed."""
    return Text(printable(text, newlines=newlines), style=style)


def assemble(*parts: str | tuple[str, str]) -> Text:
    """A line of literal pieces, some styled: `assemble(("anna", "bold"), ": ", reply)`."""
    line = Text()
    for part in parts:
        if isinstance(part, tuple):
            line.append(printable(part[0]), style=part[1])
        else:
            line.append(printable(part))
    return line


def scrub(text: Text) -> Text:
    """A styled `Text` with the controls removed from its characters, its styles kept."""
    if printable(text.plain) == text.plain:
        return text
    cuts = sorted({s.start for s in text.spans} | {s.end for s in text.spans})
    clean = Text(style=text.style, justify=text.justify, overflow=text.overflow)
    for piece in text.divide(cuts):
        start = len(clean)
        clean.append(printable(piece.plain))
        for span in piece.spans:
            clean.stylize(span.style, start, len(clean))
    return clean
