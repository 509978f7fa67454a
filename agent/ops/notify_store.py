"""Notification routes between their sealed rows and their specs; the outbox's counts.

A route's URL is sealed with the database's secrets key (storage/secrets.py), like runbook
secrets. The same rule holds: a new key file is never made while runbooks hold secrets sealed
with a key that went missing, since that would turn a key not copied along into lost secrets.
A route whose URL the key cannot open is listed as locked (with the reason) and skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from agent.errors import InvalidInput, KeyMissing, NotFound, StorageError
from agent.ops.apprise_send import deliver, understood
from agent.ops.notify_routes import TEST, NotifyRouteSpec, masked_url
from agent.ops.runbook_secrets import BoxSource, holds_secrets
from agent.ops.service import OnChange
from agent.ops.stored_specs import first_line
from storage.database import Database
from storage.repositories.notifications import (
    NotifyRouteRepository,
    OutboxCounts,
    OutboxRepository,
)
from storage.repositories.runbooks import RunbookRepository
from storage.tables import NotificationRow, NotifyRouteRow


class NotifyRoutes:
    def __init__(
        self, database: Database, box: BoxSource, clock: Callable[[], float], on_change: OnChange
    ) -> None:
        self._routes = NotifyRouteRepository(database)
        self.outbox = OutboxRepository(database)
        self._runbooks = RunbookRepository(database)
        self._box = box
        self._clock = clock
        self._changed = on_change
        #: route name -> why its URL cannot be used.
        self.locked: dict[str, str] = {}
        #: Routes given for one run only (`webops run/demo --notify URL`): never stored.
        self.for_this_run: list[NotifyRouteSpec] = []

    def add_for_this_run(self, urls: list[str]) -> list[NotifyRouteSpec]:
        """Routes for every event and target, for this process only (`--notify URL`)."""
        try:
            added = [
                NotifyRouteSpec(name=f"run-{len(self.for_this_run) + i + 1}", url=url)
                for i, url in enumerate(urls)
            ]
        except ValueError as exc:
            raise InvalidInput(f"--notify: {first_line(exc)}") from None
        for spec in added:
            if not understood(spec.url):
                raise InvalidInput(f"--notify: apprise does not understand {masked_url(spec.url)}")
        self.for_this_run.extend(added)
        return added

    async def list(self) -> list[NotifyRouteSpec]:
        """Every stored route whose URL opens, by name (the others are in `locked`)."""
        specs = []
        self.locked.clear()
        for row in await self._routes.list():
            try:
                specs.append(self._spec(row))
            except (StorageError, KeyMissing, ValueError) as exc:
                self.locked[row.name] = f"route {row.name!r}: its URL cannot be read: {exc}"
        return specs

    async def get(self, name: str) -> NotifyRouteSpec:
        row = await self._routes.get(name)
        if row is None:
            raise NotFound(f"no notification route named {name!r}")
        return self._spec(row)

    def _spec(self, row: NotifyRouteRow) -> NotifyRouteSpec:
        url = self._box(False).decrypt(row.url)
        return NotifyRouteSpec(
            name=row.name,
            url=url,
            events=json.loads(row.events),
            targets=json.loads(row.targets),
            min_criticality=row.min_criticality,  # type-checked by the model on load
            remind_every=row.remind_every_s,
            send_resolved=row.send_resolved,
        )

    async def _seal(self, url: str) -> str:
        try:
            box = self._box(False)
        except KeyMissing as exc:
            holders = [r.name for r in await self._runbooks.list() if holds_secrets(r)]
            if holders:
                raise InvalidInput(
                    f"{exc}, and runbooks {', '.join(holders)} hold secrets sealed with it; "
                    "restore the key file first"
                ) from None
            box = self._box(True)
        return box.encrypt(url)

    async def reseal(self) -> None:
        """During a key rotation (`webops secrets rotate-key`): every readable URL sealed anew
        with the newest key, before the old key is dropped (an unreadable one stays locked)."""
        box = self._box(False)
        for row in await self._routes.list():
            try:
                row.url = box.encrypt(box.decrypt(row.url))
            except StorageError:
                continue
            await self._routes.replace(row)

    async def put(self, spec: NotifyRouteSpec, *, by: str | None = None) -> bool:
        """Create the route, or replace the one with its name; whether one was replaced."""
        now = self._clock()
        replaced = await self._routes.get(spec.name) is not None
        row = NotifyRouteRow(
            name=spec.name,
            url=await self._seal(spec.url),
            events=json.dumps(list(spec.events)),
            targets=json.dumps(spec.targets),
            min_criticality=spec.min_criticality,
            remind_every_s=spec.remind_every,
            send_resolved=spec.send_resolved,
            created_at=now,
            updated_at=now,
        )
        await self._routes.replace(row)
        await self._changed(by, "notify_route_put", _detail(spec, replaced))
        return replaced

    async def remove(self, name: str, *, by: str | None = None) -> None:
        if not await self._routes.remove(name):
            raise NotFound(f"no notification route named {name!r}")
        self.locked.pop(name, None)
        await self._changed(by, "notify_route_removed", {"route": name})

    async def test(self, name: str) -> str | None:
        """Send one message to the route now (`webops notify test`), recorded in the outbox;
        None when it was delivered, else why not."""
        spec = await self.get(name)
        now = self._clock()
        row = NotificationRow(
            route=name,
            event=TEST,
            title=f"webops test notification ({name})",
            body="If you can read this, webops can reach you here.",
            created_at=now,
            next_at=now,
        )
        [row] = await self.outbox.add([row])
        assert row.id is not None
        error = await deliver(spec.url, row.title, row.body)
        status = "sent" if error is None else "failed"
        await self.outbox.settle(row.id, status, 1, error or "", now, self._clock())
        return error

    async def counts(self) -> OutboxCounts:
        return await self.outbox.counts()


def _detail(spec: NotifyRouteSpec, replaced: bool) -> dict[str, Any]:
    """What the audit says of a route: never its URL whole."""
    return {**spec.shown(), "replaced": replaced}
