"""The workbench's one subscriber to the kernel's event bus.

The bus calls its subscribers synchronously on the kernel's loop (the app's loop), so the feed
does the least it can there: for each node that follows the event's kind it posts one message
(`widgets.kernel_messages.message_for`) and returns. The widgets react in their own message
handlers, at their own pace; emotion updates coalesce in their queues.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.events import EventBus, KernelEvent
from widgets.kernel_messages import FollowsKernel, message_for


class KernelFeed:
    """Routes kernel events, as Textual messages, to the nodes that follow their kinds."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._followers: list[tuple[FollowsKernel, tuple[type[KernelEvent], ...]]] = []
        self._unsubscribe: Callable[[], None] | None = None

    def follow(self, node: FollowsKernel) -> None:
        """From now on `node` gets a message for every event of its `KERNEL_EVENTS` kinds."""
        self._followers.append((node, node.KERNEL_EVENTS))

    def start(self) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = self._bus.subscribe(self._publish)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _publish(self, event: KernelEvent) -> None:
        for node, kinds in self._followers:
            if isinstance(event, kinds):
                message = message_for(event)
                if message is not None:
                    node.post_message(message)
