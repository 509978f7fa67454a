"""The in-process message bus: the mediator between agents, and between agents and operators.

Nobody holds a reference to anybody else: a sender names a recipient (or a group) and the bus
delivers into the recipient's mailbox, a bounded `asyncio.Queue`. A full mailbox makes the
sender wait, so a fast producer is slowed to its consumer's pace and memory stays bounded.

Persistence is write-behind and batched. Every message joins a bounded pending list the moment
it is sent (status `queued`) and is written by `flush` in batches of `persist_batch`; a sender
that finds `max_pending` waiting writes them first, which is back-pressure on the database side
too. The bound is several batches deep: a flush under way on a busy event loop takes a while,
and senders that found the list full after one batch all waited for it (chats over the API
stalled for 200 ms that way).
Each message is written exactly once, with the status it has by then; a status that changes
afterwards (delivered, read) is written with `set_status` by the next flush.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, PrivateAttr

from agent.events import AgentSaid, EventBus
from storage.repositories.messages import MessageRepository, MessageTuple
from storage.tables import MessageRow

#: How operators are named on the bus ("operator:alice"), as the CLI and the workbench do.
OPERATOR_PREFIX = "operator:"


def as_operator(name: str) -> str:
    """Operators are named "operator:<who>" on the bus, so their conversations pair up."""
    return name if name.startswith(OPERATOR_PREFIX) else f"{OPERATOR_PREFIX}{name}"


MessageKind = Literal["direct", "broadcast", "chat"]


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    DELIVERED = "delivered"
    READ = "read"


_RANK = {DeliveryStatus.QUEUED: 0, DeliveryStatus.DELIVERED: 1, DeliveryStatus.READ: 2}


@dataclass(slots=True)
class _Delivery:
    """A message's mutable bookkeeping, shared by every copy of the (frozen) message."""

    status: DeliveryStatus
    id: int | None = None
    cancelled: bool = False


class Message(BaseModel):
    """One message as its sender wrote it. `id` is None until the message is persisted."""

    model_config = ConfigDict(frozen=True)

    id: int | None
    conversation: str
    sender: str
    recipient: str
    kind: MessageKind
    text: str
    meaning: dict[str, Any] = {}
    lang: str = "en"
    ts: float

    _delivery: _Delivery | None = PrivateAttr(default=None)

    @property
    def status(self) -> DeliveryStatus | None:
        """Where the message is now (None for a message that never went through a bus)."""
        return None if self._delivery is None else self._delivery.status


def conversation_id(a: str, b: str, kind: str) -> str:
    """The conversation a message belongs to; both directions of an exchange share it.

    direct: `direct:<a>:<b>` with the names sorted; chat: `chat:<agent>:<operator>` (the first
    argument is the agent, unless only it is an `operator:` name); group and broadcast:
    `group:<b>`, where `b` is the group's name.
    """
    if kind == "direct":
        first, second = sorted((a, b))
        return f"direct:{first}:{second}"
    if kind == "chat":
        if a.startswith(OPERATOR_PREFIX) and not b.startswith(OPERATOR_PREFIX):
            a, b = b, a
        return f"chat:{a}:{b}"
    if kind in ("group", "broadcast"):
        return f"group:{b}"
    raise ValueError(f"unknown conversation kind {kind!r}; use direct, chat or group")


def _encode(message: Message, status: DeliveryStatus) -> MessageTuple:
    meaning = json.dumps(message.meaning) if message.meaning else "{}"
    return (
        message.conversation,
        message.sender,
        message.recipient,
        message.kind,
        message.text,
        meaning,
        status.value,
        message.lang,
        message.ts,
    )


def _decode(row: MessageRow) -> Message:
    message = Message(
        id=row.id,
        conversation=row.conversation,
        sender=row.sender,
        recipient=row.recipient,
        kind=cast(MessageKind, row.kind),  # validated by pydantic
        text=row.text,
        meaning=json.loads(row.meaning),
        lang=row.lang,
        ts=row.ts,
    )
    message._delivery = _Delivery(DeliveryStatus(row.status), row.id)
    return message


#: A message and its delivery record, as mailboxes and the pending list hold them (reading a
#: pydantic private attribute costs several microseconds, too much at 100,000 messages).
_Envelope = tuple[Message, _Delivery]


def _retrieve(task: asyncio.Task[int]) -> None:
    """Mark a shielded write's outcome as seen; its failure was handled inside it."""
    if not task.cancelled():
        task.exception()


class MessageBus:
    """Bounded mailboxes per recipient, groups, and batched write-behind of every message."""

    def __init__(
        self,
        repository: MessageRepository,
        clock: Callable[[], float] = time.time,
        mailbox_size: int = 1000,
        persist_batch: int = 500,
        bus: EventBus | None = None,
        max_pending: int | None = None,
    ) -> None:
        if mailbox_size < 1 or persist_batch < 1:
            raise ValueError("mailbox_size and persist_batch must be at least 1")
        self._repository = repository
        self._clock = clock
        self.mailbox_size = mailbox_size
        self.persist_batch = persist_batch
        self.max_pending = max(max_pending or 4 * persist_batch, persist_batch)
        self._events = bus
        self._mailboxes: dict[str, asyncio.Queue[_Envelope]] = {}
        self.groups: dict[str, set[str]] = {}
        self._pending: list[_Envelope] = []
        #: Statuses reached after the message was written, keyed by id, for the next flush.
        self._changes: dict[int, DeliveryStatus] = {}
        self._flush_lock = asyncio.Lock()

    # -- membership ------------------------------------------------------------------------

    def register(self, name: str) -> None:
        """Open `name`'s mailbox now (it is otherwise opened by the first message or receive)."""
        self._mailbox(name)

    def join(self, group: str, member: str) -> None:
        self.groups.setdefault(group, set()).add(member)
        self.register(member)

    def leave(self, group: str, member: str) -> None:
        members = self.groups.get(group)
        if members is not None:
            members.discard(member)
            if not members:
                del self.groups[group]

    def mailbox_depth(self, name: str) -> int:
        """How many messages wait in `name`'s mailbox (never more than `mailbox_size`)."""
        queue = self._mailboxes.get(name)
        return 0 if queue is None else queue.qsize()

    @property
    def pending_count(self) -> int:
        """Messages sent but not yet handed to the database.

        At most `persist_batch`; more only after a failed write handed its batch back.
        """
        return len(self._pending)

    def _mailbox(self, name: str) -> asyncio.Queue[_Envelope]:
        queue = self._mailboxes.get(name)
        if queue is None:
            queue = self._mailboxes[name] = asyncio.Queue(self.mailbox_size)
        return queue

    # -- sending and receiving -------------------------------------------------------------

    async def send_message(
        self,
        sender: str,
        recipient: str,
        text: str,
        *,
        kind: MessageKind = "direct",
        meaning: dict[str, Any] | None = None,
        lang: str = "en",
    ) -> Message:
        """Deliver one message, waiting while the recipient's mailbox is full."""
        if kind == "broadcast":
            raise ValueError("a broadcast goes to a group: use MessageBus.broadcast")
        conversation = conversation_id(sender, recipient, kind)
        message = await self._deliver(sender, recipient, conversation, kind, text, meaning, lang)
        self._said(message, recipient)
        return message

    async def broadcast(
        self,
        sender: str,
        group: str,
        text: str,
        *,
        meaning: dict[str, Any] | None = None,
        lang: str = "en",
    ) -> list[Message]:
        """One message to every member of `group` but the sender, all in `group:<name>`.

        Members are served in name order; the event bus hears the broadcast once.
        """
        conversation = conversation_id(sender, group, "group")
        members = sorted(self.groups.get(group, set()) - {sender})
        messages = [
            await self._deliver(sender, member, conversation, "broadcast", text, meaning, lang)
            for member in members
        ]
        if messages:
            self._said(messages[0], group)
        return messages

    async def receive_message(
        self,
        recipient: str,
        timeout: float | None = None,  # noqa: ASYNC109 (None on timeout, not an exception)
    ) -> Message | None:
        """The next message for `recipient` (marked read), or None after `timeout` seconds."""
        queue = self._mailbox(recipient)
        try:
            if timeout is None:
                message, delivery = await queue.get()
            else:
                async with asyncio.timeout(timeout):
                    message, delivery = await queue.get()
        except TimeoutError:
            return None
        self._set_status(delivery, DeliveryStatus.READ)
        if delivery.id is not None:
            return message.model_copy(update={"id": delivery.id})
        return message

    async def _deliver(
        self,
        sender: str,
        recipient: str,
        conversation: str,
        kind: MessageKind,
        text: str,
        meaning: dict[str, Any] | None,
        lang: str,
    ) -> Message:
        message = Message(
            id=None,
            conversation=conversation,
            sender=sender,
            recipient=recipient,
            kind=kind,
            text=text,
            meaning=meaning or {},
            lang=lang,
            ts=self._clock(),
        )
        delivery = message._delivery = _Delivery(DeliveryStatus.QUEUED)
        envelope = (message, delivery)
        while len(self._pending) >= self.max_pending:
            async with self._flush_lock:
                if len(self._pending) >= self.max_pending:
                    await self._flush_locked()
        # No await between the check above and this append: the list never passes the batch.
        self._pending.append(envelope)
        try:
            await self._mailbox(recipient).put(envelope)
        except BaseException:
            # Never delivered: drop it unless it is already (being) written, then it stays queued.
            delivery.cancelled = True
            raise
        self._set_status(delivery, DeliveryStatus.DELIVERED)
        return message

    def _set_status(self, delivery: _Delivery, status: DeliveryStatus) -> None:
        delivery.status = status
        if delivery.id is not None:
            self._changes[delivery.id] = status

    def _said(self, message: Message, channel: str) -> None:
        if self._events is not None and self._events.active:
            self._events.publish(
                AgentSaid(agent=message.sender, channel=channel, text=message.text, ts=message.ts)
            )

    # -- persistence -----------------------------------------------------------------------

    async def flush(self) -> int:
        """Write every pending message and every status change; return how many messages.

        The write runs shielded: cancelling the caller does not cut a batch in half, so a
        batch is either written (and its messages get their ids) or handed back to pending.
        """
        async with self._flush_lock:
            return await self._flush_locked()

    async def _flush_locked(self) -> int:
        batch, self._pending = self._pending, []
        batch = [envelope for envelope in batch if not envelope[1].cancelled]
        if not batch and not self._changes:
            return 0
        task = asyncio.ensure_future(self._write(batch))
        task.add_done_callback(_retrieve)
        return await asyncio.shield(task)

    async def _write(self, batch: list[_Envelope]) -> int:
        written = 0
        try:
            for start in range(0, len(batch), self.persist_batch):
                chunk = batch[start : start + self.persist_batch]
                statuses = [delivery.status for _, delivery in chunk]
                ids = await self._repository.add_tuples(
                    [_encode(m, s) for (m, _), s in zip(chunk, statuses, strict=True)]
                )
                for (_, delivery), status, message_id in zip(chunk, statuses, ids, strict=True):
                    delivery.id = message_id
                    if delivery.status is not status:  # it moved on while the batch was written
                        self._changes[message_id] = delivery.status
                written += len(chunk)
        except BaseException:
            self._pending[:0] = batch[written:]
            raise
        changes, self._changes = self._changes, {}
        try:
            by_status: dict[DeliveryStatus, list[int]] = defaultdict(list)
            for message_id, status in changes.items():
                by_status[status].append(message_id)
            for status, ids in by_status.items():
                await self._repository.set_status(ids, status.value)
        except BaseException:
            for message_id, status in changes.items():
                newer = self._changes.get(message_id)
                if newer is None or _RANK[newer] < _RANK[status]:
                    self._changes[message_id] = status
            raise
        return written

    async def history(self, conversation: str, limit: int = 100) -> list[Message]:
        """The newest `limit` messages of a conversation, oldest first, flushed first."""
        await self.flush()
        rows = await self._repository.history(conversation, limit)
        return [_decode(row) for row in rows]

    async def conversations(self, participant: str) -> list[str]:
        """The conversations `participant` took part in, most recent first, flushed first."""
        await self.flush()
        return await self._repository.conversations(participant)
