"""What another process stores, told on this kernel's bus: a workbench beside `webops run`.

Events reach only the process that published them. An operator who runs the checks in one
process (`webops run`, `webops serve`) and watches in the workbench would see the Ops tab
frozen at what it read on opening. So the workbench starts the kernel's `Follower`: every
`INTERVAL_S` it reads the check samples stored after the last one it saw (a range of the
primary key) and the incidents that may have changed, and publishes them as `TargetChecked` /
`IncidentChanged`; every panel that follows the bus moves with no change of its own. It starts
at the newest rows: what is older is the history the workbench reads when it opens.

Never twice: while an autopilot runs in this process (`local()`), its own checks and incidents
are published by it, so the follower publishes nothing, and once the last one stops it starts
again from the newest rows. (A row does not say which process wrote it, and a bulk insert does
not return its ids; pausing is exact for what this process writes. Another process's rows
stored meanwhile are skipped: two processes checking one file at once is not a setup to watch.)

Incidents have no "updated at" column, so "may have changed" is: every incident still open and
every one after the newest seen, compared with what the bus last said of each (this process's
own events included, so a person's resolve in the workbench is not said again); one said open
that left the open set is read by id to see how it closed.

What a sample cannot tell, and a followed row therefore does not show: "degraded" (a sample
stores whether the check passed: a slow or partial answer reads "up", a failed one "down"), and
the check's detail (why it failed: the incident says, and `webops incident show`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from agent.core.follow_approvals import FollowedApprovals
from agent.core.follow_feelings import FollowedFeelings
from agent.errors import WebopsError
from agent.events import IncidentChanged, KernelEvent, TargetChecked
from agent.ops.evidence import OPEN_STATUSES
from agent.ops.incidents import changed_event
from storage.notices import Notices
from storage.repositories.check_samples import CheckSampleRepository
from storage.repositories.incidents import IncidentRepository
from storage.tables import CheckSampleRow

if TYPE_CHECKING:
    from agent.core.kernel import Kernel

logger = logging.getLogger("webops.follow")

#: How often the file is read: a check shows within about this long of being stored. On
#: PostgreSQL a notice from the server (storage/notices.py) wakes the follower at once too.
INTERVAL_S = 1.0
#: Samples published per read at most (5,000 targets at 30 s store ~170 a second); a backlog
#: is worked off over the next reads rather than in one long turn of the loop.
BATCH = 2000
#: Open incidents read at a time (more are not open at once in practice).
MAX_OPEN = 1000

_Said = tuple[str, str | None, int, str, str]


def _said(event: IncidentChanged) -> _Said:
    """What an incident's event says that a row can change."""
    return (event.status, event.owner, event.steps, event.summary, event.health)


class Follower:
    """Reads what other processes store and publishes it on the kernel's bus."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.samples = CheckSampleRepository(kernel.database)
        self.incidents = IncidentRepository(kernel.database)
        self.approvals = FollowedApprovals(kernel.database, kernel.bus)
        self.feelings = FollowedFeelings(kernel)
        #: Seconds between reads when nothing wakes the follower sooner.
        self.interval_s = INTERVAL_S
        self._wake = asyncio.Event()
        #: PostgreSQL's notices, while following a server database.
        self.notices: Notices | None = None
        self._local = 0
        #: Start (again) from the newest rows at the next read.
        self._seek = True
        self._last_sample = 0
        self._last_incident = 0
        #: What the bus last said of each incident it said was open.
        self._open: dict[int, _Said] = {}
        #: Incidents the bus spoke of while a read was under way (that read is older).
        self._told: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] = lambda: None

    @contextlib.contextmanager
    def local(self) -> Iterator[None]:
        """While an autopilot runs in this process: it publishes its own checks, so the
        follower does not; afterwards it starts again from the newest rows."""
        self._local += 1
        try:
            yield
        finally:
            self._local -= 1
            self._seek = True

    def start(self) -> None:
        """Follow the file from now on (until `stop`), on the running loop."""
        if self._task is None:
            self._unsubscribe = self.kernel.bus.subscribe(self._heard)
            self._task = asyncio.create_task(self._run(), name="webops follow")
            server = self.kernel.database.server
            if server is not None:  # another node's writes wake the follower at once
                self.notices = Notices(server, lambda _table: self._wake.set())
                self.notices.start()

    async def stop(self) -> None:
        task, self._task = self._task, None
        notices, self.notices = self.notices, None
        self._unsubscribe()
        if notices is not None:
            await notices.close()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # a notice during the read wakes the next one
            try:
                await self.read()
            except WebopsError as exc:  # busy or unreadable a moment: the next read retries
                logger.warning("following the database: %s", exc.message)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)

    def _heard(self, event: KernelEvent) -> None:
        self.approvals.heard(event)
        self.feelings.heard(event)
        if isinstance(event, IncidentChanged):
            self._told.add(event.incident_id)
            if event.status in OPEN_STATUSES:
                self._open[event.incident_id] = _said(event)
            else:
                self._open.pop(event.incident_id, None)

    async def read(self) -> None:
        """One look at the file: publish what was stored since the last."""
        if self._local:
            return
        if self._seek:
            self._seek = False
            self._last_sample = await self.samples.newest_id()
            self._last_incident = await self.incidents.newest_id()
            for row in await self.incidents.list(statuses=OPEN_STATUSES, limit=MAX_OPEN):
                self._open[row.id or 0] = _said(changed_event(row, row.opened_at))
            await self.approvals.seek()
            await self.feelings.seek()
            return
        await self._read_samples()
        await self._read_incidents()
        approvals = await self.approvals.fetch()
        feelings = await self.feelings.fetch()
        if self._local or self._seek:
            return
        self.approvals.publish(approvals, self.kernel.clock())
        await self.feelings.publish(feelings)

    async def _read_samples(self) -> None:
        rows = await self.samples.since(self._last_sample, BATCH)
        if self._local or self._seek:  # an autopilot started meanwhile: these may be its own
            return
        for row in rows:
            self._last_sample = max(self._last_sample, row.id or 0)
            self.kernel.bus.publish(await self._checked(row))

    async def _checked(self, row: CheckSampleRow) -> TargetChecked:
        held = await self.kernel.silences.covering(row.target)
        healthy = bool(row.healthy)
        return TargetChecked(
            target=row.target,
            healthy=healthy,
            latency_ms=row.latency_ms,
            detail="",
            health="up" if healthy else "down",
            maintenance=held.says() if held else None,
            ts=row.ts,
        )

    async def _read_incidents(self) -> None:
        self._told.clear()
        rows = await self.incidents.open_or_after(OPEN_STATUSES, self._last_incident, MAX_OPEN)
        seen = {row.id for row in rows}
        for gone in [i for i in self._open if i not in seen]:  # closed (or pruned) since
            if (row := await self.incidents.get(gone)) is not None:
                rows.append(row)
            else:
                self._open.pop(gone, None)
        if self._local or self._seek:
            return
        now = self.kernel.clock()
        for row in rows:
            assert row.id is not None
            self._last_incident = max(self._last_incident, row.id)
            if row.id in self._told:  # the bus spoke of it during the read: that is newer
                continue
            event = changed_event(row, row.closed_at or now)
            if self._open.get(row.id) != _said(event):
                self.kernel.bus.publish(event)  # `_heard` keeps what it said
