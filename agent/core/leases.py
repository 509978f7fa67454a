"""A worker's share of the targets: `webops run --worker NAME` beside other workers on one
database, each target checked by exactly one of them at a time.

Chosen: leases in the database (storage/repositories/leases.py), kept by this keeper beside
the autopilot. Every `lease_s / 3` it says the worker is alive, renews the leases it holds,
and moves towards its fair share (the targets divided among the live workers, rounded up):
over it, it releases its extras at once so that a new worker gets work; under it, it claims
free or expired leases. A worker that dies (SIGKILL) stops renewing, and its leases expire
after `lease_s`; a clean stop releases them all at once.

A worker stops checking a target before its lease could be taken from it: `owns` is false
once the lease is within `lease_s / 3` of expiring without having been renewed (a stalled
database, a paused process), so two workers never check one target at once. Time is the
database's (`LeaseRepository.now`), read once a round and carried forward on this process's
monotonic clock in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterable

from agent.errors import InvalidInput, WebopsError
from storage.database import Database
from storage.repositories.leases import LeaseRepository, WorkerView

log = logging.getLogger("webops.leases")

#: The default lease: a dead worker's targets are checked by another within about this long.
DEFAULT_LEASE_S = 10.0
#: The shortest lease accepted: a round every lease/3 must fit a busy database's write.
MIN_LEASE_S = 0.5


class LeaseKeeper:
    def __init__(
        self,
        database: Database,
        name: str,
        lease_s: float = DEFAULT_LEASE_S,
        *,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self.lease_s = lease_s
        self.leases = LeaseRepository(database)
        self.say = say or (lambda _line: None)
        #: Targets leased to this worker, with when each lease expires (database time).
        self.held: dict[str, float] = {}
        #: Targets not to release now: the autopilot's incidents under way (a turn being
        #: worked would otherwise go on here while the next worker takes the incident up).
        self.holding: Callable[[str], bool] = lambda _target: False
        self._gained: set[str] = set()
        self._known: frozenset[str] = frozenset()
        #: Database time minus this process's monotonic clock, as of the last round.
        self._offset = 0.0

    def now(self) -> float:
        """Database time, carried forward from the last round on the monotonic clock."""
        return time.monotonic() + self._offset

    def owns(self, target: str) -> bool:
        """Whether this worker may check `target` now: leased, and not about to expire."""
        expires = self.held.get(target)
        return expires is not None and expires - self.lease_s / 3 > self.now()

    def take_gained(self) -> list[str]:
        """Targets leased since the last call (their open incidents are to be taken up)."""
        gained, self._gained = sorted(self._gained), set()
        return gained

    async def _clock(self) -> float:
        now = await self.leases.now()
        self._offset = now - time.monotonic()
        return now

    async def start(self, targets: Iterable[str]) -> None:
        """Register the worker (refused when a live worker has this name) and take a first
        share of `targets`."""
        now = await self._clock()
        live = await self.leases.register(self.name, self.lease_s, now)
        if live is not None:
            raise InvalidInput(
                f"worker {self.name!r} is already running (seen {now - live.seen_at:.1f} s ago); "
                "give this one another --worker name"
            )
        await self.round(targets)

    async def round(self, targets: Iterable[str]) -> None:
        """One turn: heartbeat, lease rows for new targets, renew, then release or claim."""
        names = frozenset(targets)
        now = await self._clock()
        await self.leases.heartbeat(self.name, now)
        if names != self._known:
            await self.leases.ensure(sorted(names - self._known))
            self._known = names
        renewed = await self.leases.renew(self.name, now, self.lease_s)
        live = max(1, await self.leases.live_workers(now))
        share = math.ceil(len(names) / live)
        held = {t: until for t, until in renewed.items() if t in names}
        if len(held) > share:
            quiet = [t for t in sorted(held) if not self.holding(t)]
            extras = quiet[max(0, len(quiet) - (len(held) - share)) :]
            for target in extras:  # not checked from now on, before the database frees it
                del held[target]
                self.held.pop(target, None)
            await self.leases.release(self.name, extras)
        elif len(held) < share:
            for target in await self.leases.claim(self.name, now, self.lease_s, share - len(held)):
                held[target] = now + self.lease_s
        self._gained |= set(held) - set(self.held)
        self.held = held

    async def keep(self, targets: Callable[[], Iterable[str]], stop: asyncio.Event) -> None:
        """Run a round every `lease_s / 3` until `stop`; a failed round is said and retried
        (the leases then lapse by themselves: `owns` turns false before they expire)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.lease_s / 3)
            if stop.is_set():
                break
            try:
                await self.round(targets())
            except WebopsError as exc:
                self.say(f"worker {self.name}: could not renew leases, will try again: {exc}")
            except Exception as exc:  # a dropped connection: the next round tries again
                log.warning("lease round failed", exc_info=exc)
                self.say(f"worker {self.name}: lease round failed: {type(exc).__name__}: {exc}")

    async def stop(self) -> None:
        """A clean stop: every lease is released at once, and the worker marked stopped."""
        self.held = {}
        await self.leases.release(self.name)
        await self.leases.stopped(self.name, await self.leases.now())


async def workers(database: Database) -> tuple[float, list[WorkerView]]:
    """Every worker with the targets it leases now, and the database time they were read at
    (what "seen ago" and "live" are measured from)."""
    leases = LeaseRepository(database)
    now = await leases.now()
    return now, await leases.workers(now)


def is_live(worker: WorkerView, now: float) -> bool:
    """Seen within its lease and not stopped: counted in the share of the targets."""
    return worker.stopped_at is None and worker.seen_at >= now - worker.lease_s
