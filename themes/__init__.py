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

#: For consoles and screen readers that need the strongest contrast: pure black and white.
WEBOPS_HIGH_CONTRAST = Theme(
    name="webops-high-contrast",
    primary="#FFFF00",
    secondary="#00FFFF",
    accent="#00FFFF",
    warning="#FFAA00",
    error="#FF5555",
    success="#55FF55",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#262626",
    boost="#333333",
    dark=True,
    variables={"border-blurred": "#BBBBBB", "footer-key-foreground": "#FFFF00"},
)

#: For terminals without truecolor (the Linux console, old SSH clients): the terminal's own
#: 16 ANSI colours, so it reads the way the user's palette says.
WEBOPS_16 = Theme(
    name="webops-16",
    ansi=True,
    primary="ansi_blue",
    secondary="ansi_cyan",
    warning="ansi_yellow",
    error="ansi_red",
    success="ansi_green",
    accent="ansi_bright_yellow",
    foreground="ansi_default",
    background="ansi_default",
    surface="ansi_default",
    panel="ansi_default",
    boost="ansi_default",
    dark=True,
    variables={
        "ansi-background": "ansi_black",
        "ansi-foreground": "ansi_white",
        "border-blurred": "ansi_bright_black",
        "block-cursor-foreground": "ansi_black",
        "block-cursor-background": "ansi_white",
        "input-cursor-background": "ansi_white",
        "input-cursor-foreground": "ansi_black",
        "input-selection-background": "ansi_bright_blue",
        "footer-key-foreground": "ansi_bright_yellow",
    },
)

THEMES: tuple[Theme, ...] = (WEBOPS_DARK, WEBOPS_HIGH_CONTRAST, WEBOPS_16)
