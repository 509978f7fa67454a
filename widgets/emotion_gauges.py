"""Live emotion gauges of the selected agent: eight bars, the mood, and a sparkline each;
below them, once experience moved its traits, how far and the newest reason (personality drift).

The selected agent comes down from the screen (`agent`, data-bound); the gauges read that
agent's `Mind` through the lookup they were given, when it is selected and whenever an
`EmotionsUpdated` message says it changed (a burst of them coalesces into one repaint).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual.reactive import var
from textual.widget import Widget

from agent.events import EmotionsChanged, KernelEvent, PersonalityDrifted
from agent.mind.drift import Drift
from agent.mind.emotions import EMOTIONS
from agent.mind.mind import Mind
from agent.mind.mood import Mood
from widgets.kernel_messages import EmotionsUpdated, KernelEventArrived

#: Finds an agent's live mind by name (None: not loaded).
MindLookup = Callable[[str], Mind | None]

_SPARKS = "▁▂▃▄▅▆▇█"
_EIGHTHS = " ▏▎▍▌▋▊▉"
SPARK_WIDTH = 16
TONE = {
    "joy": "positive",
    "trust": "positive",
    "anticipation": "positive",
    "surprise": "neutral",
    "fear": "negative",
    "sadness": "negative",
    "disgust": "negative",
    "anger": "negative",
}


def gauge(value: float, width: int) -> str:
    """A bar of `width` cells filled to `value` in [0, 1], with eighth-cell precision."""
    filled = max(0.0, min(1.0, value)) * width
    full = int(filled)
    eighths = int((filled - full) * 8)
    part = _EIGHTHS[eighths] if full < width and eighths else ""
    return ("█" * full + part).ljust(width, "·")


def sparkline(values: Sequence[float], width: int = SPARK_WIDTH) -> str:
    """The last `width` values on a fixed 0-1 scale, so heights compare across emotions."""
    recent = list(values)[-width:]
    return "".join(_SPARKS[min(7, int(v * 8))] for v in recent).rjust(width)


class EmotionGauges(Widget):
    """Reads an agent's `Mind` when told it changed; never polls."""

    KERNEL_EVENTS: ClassVar[tuple[type[KernelEvent], ...]] = (EmotionsChanged, PersonalityDrifted)
    COMPONENT_CLASSES = {
        "emotion-gauges--positive",
        "emotion-gauges--negative",
        "emotion-gauges--neutral",
    }
    DEFAULT_CSS = """
    EmotionGauges {
        height: auto;
        min-height: 11;
        padding: 0 1;
    }
    EmotionGauges > .emotion-gauges--positive { color: $success; }
    EmotionGauges > .emotion-gauges--negative { color: $error; }
    EmotionGauges > .emotion-gauges--neutral { color: $accent; }
    """

    #: The agent shown (bound to the screen's selected agent).
    agent: var[str | None] = var(None)

    def __init__(
        self,
        *,
        minds: MindLookup | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._minds = minds
        self.values: dict[str, float] = {}
        self.rest: dict[str, float] = {}
        self.mood: Mood | None = None
        self.history: dict[str, list[float]] = {}
        self.drift: Drift = Drift()

    def watch_agent(self, name: str | None) -> None:
        self._show_current()

    def on_emotions_updated(self, message: EmotionsUpdated) -> None:
        if message.agent == self.agent:
            self._show_current()

    def on_kernel_event_arrived(self, message: KernelEventArrived) -> None:
        if message.event.agent == self.agent:
            self._show_current()

    def _show_current(self) -> None:
        mind = self._minds(self.agent) if self._minds and self.agent else None
        if self.agent is not None and mind is not None:
            self.show_mind(self.agent, mind)

    def show_mind(self, agent: str, mind: Mind) -> None:
        self.show(
            agent,
            mind.as_dict(),
            dict(zip(EMOTIONS, mind.rest, strict=True)),
            mind.mood(),
            {name: mind.series(name) for name in EMOTIONS},
            mind.drift,
        )

    def show(
        self,
        agent: str | None,
        values: Mapping[str, float],
        rest: Mapping[str, float],
        mood: Mood | None,
        history: Mapping[str, Sequence[float]],
        drift: Drift | None = None,
    ) -> None:
        self.set_reactive(EmotionGauges.agent, agent)  # showing is not selecting: no watcher
        self.values = dict(values)
        self.rest = dict(rest)
        self.mood = mood
        self.history = {k: list(v) for k, v in history.items()}
        self.drift = drift or Drift()
        self.border_title = f"Feelings · {agent}" if agent else "Feelings"
        self.refresh(layout=True)

    def render(self) -> Text:
        if self.agent is None or self.mood is None:
            return Text("Select an agent to see how it feels.", style="dim")
        width = self.size.width or 60
        show_spark = width >= 50
        bar_width = max(8, width - 12 - 6 - (SPARK_WIDTH + 1 if show_spark else 0))
        text = Text(no_wrap=True, overflow="ellipsis")
        styles = {
            tone: self.get_component_rich_style(f"emotion-gauges--{tone}")
            for tone in ("positive", "negative", "neutral")
        }
        for name in EMOTIONS:
            value = self.values.get(name, 0.0)
            above = value - self.rest.get(name, 0.0) > 0.1
            text.append(f"{name:<12} ", style="bold" if above else "")
            bar = gauge(value, bar_width)
            filled = bar.rstrip("·")
            text.append(filled, style=styles[TONE[name]])
            text.append(bar[len(filled) :], style="dim")
            text.append(f" {value:4.2f}")
            if show_spark:
                text.append(" " + sparkline(self.history.get(name, [])), style="dim")
            text.append("\n")
        m = self.mood
        text.append("mood ", style="dim")
        text.append(f"{m.label:<11}", style="bold")
        text.append(f" P {m.pleasure:+.2f}  A {m.arousal:+.2f}  D {m.dominance:+.2f}")
        moved = {t: v for t, v in self.drift.as_dict().items() if abs(v) >= 0.0005}
        if not moved:
            return text  # traits as created: nothing to say
        text.append("\ndrift ", style="dim")
        text.append("  ".join(f"{t[0].upper()} {v:+.3f}" for t, v in moved.items()), style="bold")
        newest = self.drift.reasons[0] if self.drift.reasons else None
        if newest is not None:
            text.append(f"  {newest.why}", style="dim")
        return text
