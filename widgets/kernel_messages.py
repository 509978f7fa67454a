"""Kernel events as Textual messages: how the kernel's news reaches the widgets.

The kernel publishes typed events on its bus; the workbench has one subscriber
(`webops_tui.screens.kernel_feed.KernelFeed`) that posts each event, as one of the messages
below, to the widgets that declared they follow its kind (`FollowsKernel.KERNEL_EVENTS`).
Widgets then handle the message like any other (`on_kernel_event_arrived`,
`on_emotions_updated`), so a widget's reaction to the kernel sits beside its DEFAULT_CSS.

Emotion updates are the high-frequency kind (every appraisal of every agent): they travel as
`EmotionsUpdated`, which a newer one for the same agent replaces in the queue (`can_replace`),
so a burst of 200 a second costs one repaint. Every other event arrives whole, as
`KernelEventArrived`, and is not bubbled: it is news for the widget it was posted to.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from textual.message import Message

from agent.events import EmotionsChanged, KernelEvent


class KernelEventArrived(Message, bubble=False):
    """One kernel event, for a widget that follows its kind."""

    def __init__(self, event: KernelEvent) -> None:
        super().__init__()
        self.event = event


class EmotionsUpdated(Message, bubble=False):
    """An agent's emotions changed; only the newest of a burst needs painting."""

    def __init__(self, agent: str) -> None:
        super().__init__()
        self.agent = agent

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EmotionsUpdated) and message.agent == self.agent


class FollowsKernel(Protocol):
    """A node that wants kernel events: it names their kinds and handles the messages."""

    KERNEL_EVENTS: ClassVar[tuple[type[KernelEvent], ...]]

    def post_message(self, message: Message) -> bool: ...


def message_for(event: KernelEvent) -> Message | None:
    """The message that carries `event` to a widget (None: nothing a widget could use)."""
    if isinstance(event, EmotionsChanged):
        return EmotionsUpdated(event.agent) if event.agent else None
    return KernelEventArrived(event)
