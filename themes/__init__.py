"""Textual themes for the workbench and the stylesheet that lays it out.

The stylesheet uses only theme variables ($primary, $surface, ...), so every theme, including
Textual's built-in ones, restyles the whole app without edits.
"""

from __future__ import annotations

from pathlib import Path

from textual.theme import Theme

STYLESHEET = Path(__file__).with_name("workbench.tcss")

WEBOPS_DARK = Theme(
    name="webops-dark",
    primary="#4FA3E0",
    secondary="#7E9CD8",
    accent="#E6A23C",
    warning="#E6A23C",
    error="#E05561",
    success="#5FB36B",
    foreground="#D8DEE9",
    background="#14181F",
    surface="#1B212B",
    panel="#232B38",
    dark=True,
)

THEMES: tuple[Theme, ...] = (WEBOPS_DARK,)
