"""What every part of the main screen stands on: the open kernel, and answers to live panels.

The main screen is composed of small parts (Ops reads, decisions and chat) that each ask the
kernel in workers and hand answers to panels; they share this base so each part reaches the
kernel, the panel still shown and the read-only refusal the same way.
"""

from __future__ import annotations

import getpass
from typing import TypeVar

from textual.reactive import var
from textual.screen import Screen
from textual.widget import Widget

from agent.core.kernel import Kernel

PanelT = TypeVar("PanelT", bound=Widget)


def operator() -> str:
    """Who a person's decision or silence is recorded as: the login running the workbench."""
    return f"operator:{getpass.getuser()}"


class KernelScreen(Screen[None]):
    """A screen over one open kernel (see `MainScreen.start`)."""

    #: The agent every per-agent panel shows (the roster's highlighted row).
    selected_agent: var[str | None] = var(None)

    def __init__(self, *, read_only: bool = False) -> None:
        super().__init__()
        #: `webops --read-only`: nothing is run, approved, created or started from here.
        self.read_only = read_only
        self._kernel: Kernel | None = None

    @property
    def kernel(self) -> Kernel:
        """The kernel the app opened for this screen (see `MainScreen.start`)."""
        if self._kernel is None:
            raise RuntimeError("the workbench's kernel is not open yet")
        return self._kernel

    def _shown(self, panel: type[PanelT]) -> PanelT | None:
        """The panel to hand an answer to; None once the app is closing (the panels go before
        the work that was reading for them, leaves first, while the screen is still attached)."""
        if not self.is_attached:
            return None
        found = next(iter(self.query(panel)), None)
        return found if found is not None and found.is_attached else None

    def _refused_read_only(self, what: str) -> bool:
        """In a read-only workbench, say what did not happen and return True."""
        if self.read_only:
            self.notify(f"read-only: {what} (started with --read-only)", severity="warning")
        return self.read_only
