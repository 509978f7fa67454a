"""One repaint per burst of events, armed by the events themselves.

At 200 kernel events a second, repainting a table (or reading the database) per event would
starve the keys. `OncePerBurst` runs its callback once, `delay` seconds after the first event
of a burst; the events that arrive meanwhile ride along. When nothing happens nothing runs:
no timer ticks in the background checking whether something might have changed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from textual.dom import DOMNode
from textual.timer import Timer


class OncePerBurst:
    """Call `run` once, `delay` seconds after the first `poke` since the last run."""

    def __init__(self, owner: DOMNode, delay: float, run: Callable[[], object]) -> None:
        self._owner = owner
        self._delay = delay
        self._run = run
        self._timer: Timer | None = None

    def poke(self) -> None:
        """Something changed: make sure `run` happens soon (once, however often poked)."""
        if self._timer is None and self._owner.is_attached:
            self._timer = self._owner.set_timer(self._delay, self._fire, name="once-per-burst")

    async def _fire(self) -> None:
        self._timer = None  # events from now on arm the next run
        if not self._owner.is_attached:
            return  # the app is closing: nothing left to repaint
        result = self._run()
        if inspect.isawaitable(result):
            await result
