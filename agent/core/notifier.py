"""The notifier: kernel events become notices, notices become outbox rows, rows are sent.

It runs beside the autonomous loop (the autopilot starts and stops it), never inside it: the
bus subscriber only queues the event; one task turns events into outbox rows (one per route
that wants the notice, agent/ops/notices.py says which events count), another sends what is
due through apprise (agent/ops/apprise_send.py, in the loop's thread pool), and a third writes
reminders for incidents still open and unacknowledged. That third one first re-reads the rows
of the incidents it holds open (agent/core/incident_watch.py): an ack or a resolve made in
another process reaches it there. An incident is announced as opened to a route only when the
outbox holds no such row for it yet, so a restart does not announce again what is still open.
A failed delivery is tried again after a back-off that doubles (1, 2, 4, 8 s...) up to
`MAX_ATTEMPTS` attempts, then marked failed.
Each row is written before it is tried, so a restart sends what is still pending; routes given
for one run only (`--notify URL`) are gone after it, and their leftovers are marked failed.

Every attempt publishes `NotificationSent` or `NotificationFailed` (for /metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from agent.clock import SYSTEM, Clock
from agent.core.incident_watch import load_open, reread
from agent.core.kernel import Kernel
from agent.decision.risk import Criticality
from agent.errors import WebopsError
from agent.events import KernelEvent, NotificationFailed, NotificationSent
from agent.ops.apprise_send import deliver
from agent.ops.notices import NOTIFY_TYPE, Incidents, Notice
from agent.ops.notify_routes import REMINDER, NotifyRouteSpec
from storage.repositories.incidents import IncidentRepository
from storage.tables import NotificationRow

log = logging.getLogger("webops.notify")

#: Attempts per delivery before it is marked failed.
MAX_ATTEMPTS = 5
#: Longest back-off between two attempts.
MAX_BACKOFF_S = 300.0
#: How often reminders are looked for, and the longest the sender sleeps.
TICK_S = 1.0
#: The shortest pause between two looks for reminders due (reminders every few seconds).
MIN_TICK_S = 0.05
#: How long stopping may take to write what is queued and make one last attempt.
STOP_GRACE_S = 10.0


def backoff_s(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: 1, 2, 4, ... capped."""
    return min(MAX_BACKOFF_S, 2.0 ** min(max(0, attempts - 1), 30))


class Notifier:
    def __init__(self, kernel: Kernel, clock: Clock = SYSTEM) -> None:
        self.kernel = kernel
        self.clock = clock
        self.routes: dict[str, NotifyRouteSpec] = {}
        self.incidents = Incidents()
        self._rows = IncidentRepository(kernel.database)
        self._queue: asyncio.Queue[KernelEvent | None] = asyncio.Queue()
        self._wake = asyncio.Event()
        #: Set by stop: the sender ends after the delivery in hand.
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: Callable[[], None] | None = None
        #: incident id -> the routes told it opened (the outbox's answer, read once per run).
        self._told: dict[int, set[str]] = {}
        #: (route, incident id) -> when its last reminder (or its opening) was written.
        self._reminded: dict[tuple[str, int], float] = {}

    async def start(self) -> None:
        """Load the routes and start listening; nothing at all on a read-only database."""
        if self.kernel.database.read_only or self._tasks:
            return
        notifications = self.kernel.notifications
        routes = [*await notifications.list(), *notifications.for_this_run]
        for name, why in notifications.locked.items():
            log.warning("notification route %s skipped: %s", name, why)
        self.routes = {route.name: route for route in routes}
        self._stopping = False
        await load_open(self._rows, self.incidents)
        self._unsubscribe = self.kernel.bus.subscribe(self._queue.put_nowait)
        self._tasks = [
            asyncio.create_task(self._intake(), name="notify:intake"),
            asyncio.create_task(self._send_loop(), name="notify:send"),
            asyncio.create_task(self._remind_loop(), name="notify:remind"),
        ]

    async def stop(self) -> None:
        """Write what is queued, make one last attempt at what is due, stop the tasks."""
        if not self._tasks:
            return
        if self._unsubscribe is not None:
            self._unsubscribe()
        intake, sender, reminder = self._tasks
        self._queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(intake, STOP_GRACE_S)
        reminder.cancel()
        # The sender finishes the delivery in hand: cancelled while apprise waited for the
        # answer, a notice that had arrived stayed pending and was sent again just below
        # (the demo's webhook got its last "resolved" twice).
        self._stopping = True
        self._wake.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sender, STOP_GRACE_S)
        await asyncio.gather(reminder, sender, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._send_due(), STOP_GRACE_S)
        self._tasks = []

    # -- events -> outbox rows -------------------------------------------------------------

    async def _intake(self) -> None:
        while (event := await self._queue.get()) is not None:
            if event.kind.startswith("notification_"):
                continue
            try:
                notice = self.incidents.notice(event)
                if notice is not None:
                    await self._enqueue(await self._about(notice, event))
            except Exception:  # a bad event or a full disk: say so, go on with the next
                log.exception("could not queue a notification for %s", event.kind)

    async def _about(self, notice: Notice, event: KernelEvent) -> Notice:
        """A decided approval names no target: look it up, so target filters apply."""
        approval_id = getattr(event, "approval_id", None)
        if notice.event == "approval_decided" and isinstance(approval_id, int):
            target = (await self.kernel.approval(approval_id)).target
            return Notice(notice.event, notice.title, notice.body, target)
        return notice

    def _criticality(self, target: str | None) -> Criticality | None:
        spec = self.kernel.ops.targets.get(target) if target else None
        return spec.level if spec else None

    async def _enqueue(self, notice: Notice, only: str | None = None) -> int:
        now = self.kernel.clock()
        level = self._criticality(notice.target)
        outbox = self.kernel.notifications.outbox
        told: set[str] = set()
        opened = notice.incident_id if notice.event == "incident_opened" else None
        if opened is not None:  # the outbox scan is ~14 ms at 50k rows: once per incident
            if opened not in self._told:
                self._told[opened] = await outbox.routes_told(opened, notice.event)
            told = self._told[opened]
        rows = [
            NotificationRow(
                route=route.name,
                event=notice.event,
                target=notice.target,
                incident_id=notice.incident_id,
                title=notice.title,
                body=notice.body,
                created_at=now,
                next_at=now,
            )
            for route in self.routes.values()
            if (only is None or route.name == only)
            and route.name not in told
            and route.wants(notice.event, notice.target, level)
        ]
        if opened is not None:
            told.update(row.route for row in rows)
            for row in rows:
                self._reminded[(row.route, opened)] = now
        if rows:
            await outbox.add(rows)
            self._wake.set()
        return len(rows)

    # -- reminders ---------------------------------------------------------------------------

    async def _remind_loop(self) -> None:
        spans = [r.remind_every for r in self.routes.values() if r.remind_every > 0]
        tick = max(MIN_TICK_S, min([TICK_S, *(span / 2 for span in spans)]))
        while True:
            await self.clock.sleep(tick)
            try:
                await self._remind()
            except Exception:
                log.exception("could not queue reminders")

    async def _remind(self) -> None:
        if not self.routes:  # nobody to tell: no need to read the incidents either
            return
        now = self.kernel.clock()
        for notice in await reread(self._rows, self.incidents, now):
            await self._enqueue(notice)
        for incident_id, incident in list(self.incidents.open.items()):
            if incident.acknowledged:
                continue
            for route in self.routes.values():
                key = (route.name, incident_id)
                last = self._reminded.get(key, incident.opened_at)
                if route.remind_every > 0 and now - last >= route.remind_every:
                    self._reminded[key] = now
                    await self._enqueue(self.incidents.reminder(incident_id, now), route.name)

    # -- sending -----------------------------------------------------------------------------

    async def _send_loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                sent = await self._send_due()
                upcoming = await self.kernel.notifications.outbox.next_due()
            except WebopsError as exc:  # the database away a moment (a server restarting)
                log.warning("could not read the notification outbox: %s", exc.message)
                sent, upcoming = 0, None
            except Exception:
                log.exception("could not read the notification outbox")
                sent, upcoming = 0, None
            if sent:
                continue
            now = self.kernel.clock()
            wait = TICK_S if upcoming is None else min(TICK_S, max(0.0, upcoming - now))
            await self.clock.wait(self._wake, wait)

    async def _send_due(self) -> int:
        rows = await self.kernel.notifications.outbox.due(self.kernel.clock())
        for row in rows:
            await self._attempt(row)
        return len(rows)

    async def _attempt(self, row: NotificationRow) -> None:
        assert row.id is not None
        route = self.routes.get(row.route)
        attempts = row.attempts + 1
        if route is None:
            error: str | None = f"route {row.route!r} is gone (removed, or given for one run only)"
            attempts = MAX_ATTEMPTS
        else:
            kind = NOTIFY_TYPE.get(row.event, "info")
            error = await deliver(route.url, row.title, row.body, kind)
        now = self.kernel.clock()
        outbox = self.kernel.notifications.outbox
        if error is None:
            await outbox.settle(row.id, "sent", attempts, "", now, now)
            self.kernel.bus.publish(
                NotificationSent(route=row.route, event=row.event, attempts=attempts, ts=now)
            )
            return
        final = attempts >= MAX_ATTEMPTS
        status, next_at = ("failed", now) if final else ("pending", now + backoff_s(attempts))
        await outbox.settle(row.id, status, attempts, error, next_at, now)
        log.warning(
            "notification %d to %s failed (attempt %d): %s", row.id, row.route, attempts, error
        )
        self.kernel.bus.publish(
            NotificationFailed(
                route=row.route,
                event=row.event,
                attempts=attempts,
                error=error,
                final=final,
                ts=now,
            )
        )


__all__ = ["MAX_ATTEMPTS", "REMINDER", "Notifier", "backoff_s"]
