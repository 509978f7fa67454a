"""Silences and maintenance windows as stored, and the autopilot's one question: hold off?

What a silence does (and what was chosen): checks go on and are recorded (the sparkline and
`check_sample` keep filling, a failing run is still counted), but while a target is covered

- no incident opens: the confirmed fault waits; when the silence or window ends and the target
  still fails, the next failing check opens the incident as usual (the run was kept);
- no remedy runs: an incident that was already open when the silence began is left open and
  keeps its owner, but gets no new handling turn until the silence ends; a remedy already
  waiting for a person's approval stays waiting (a person deciding it is the person's call).
  If the target recovers meanwhile, the incident resolves as usual.

Each hold is said once per target and silence (not on every check). Times are the kernel's
clock (virtual in tests), so a window's cron is judged against the time the loop lives in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agent.errors import InvalidInput, NotFound
from agent.fresh import Fresh
from agent.ops.maintenance import (
    Covering,
    MaintenanceWindowSpec,
    SilenceSpec,
    covering,
    window_entries,
)
from agent.ops.service import OnChange
from agent.ops.stored_specs import first_line
from storage.repositories.silences import MaintenanceWindowRepository, SilenceRepository
from storage.tables import MaintenanceWindowRow, SilenceRow

#: How old the stored silences and windows may be when the loop asks (another process may
#: have added one: `webops silence` while `webops run` runs).
REFRESH_S = 1.0

#: The silences not ended (as entries, made once per read) and the windows.
_Stored = tuple[list[Covering], list[MaintenanceWindowSpec]]


def _entry(row: SilenceRow) -> Covering:
    return Covering(
        kind="silence",
        id=row.name or str(row.id),
        reason=row.reason,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        targets=json.loads(row.targets),
    )


def _window(row: MaintenanceWindowRow) -> MaintenanceWindowSpec:
    return MaintenanceWindowSpec(
        name=row.name,
        targets=json.loads(row.targets),
        cron=row.cron,
        duration=row.duration,
        reason=row.reason,
    )


class Silences:
    def __init__(
        self,
        silences: SilenceRepository,
        windows: MaintenanceWindowRepository,
        clock: Callable[[], float],
        on_change: OnChange,
    ) -> None:
        self._silences = silences
        self._windows = windows
        self._clock = clock
        self._changed = on_change
        self._fresh: Fresh[_Stored] = Fresh(self._load, REFRESH_S)
        #: (target, what covers it) already said, so a hold is said once, not every check.
        self._said: set[tuple[str, str]] = set()

    async def _load(self) -> _Stored:
        windows = []
        for row in await self._windows.list():
            try:
                windows.append(_window(row))
            except ValueError:  # a rule stricter than when it was stored: not applied
                continue
        return [_entry(r) for r in await self._silences.current(self._clock())], windows

    # -- the autopilot's question -----------------------------------------------------------

    async def covering(self, target: str) -> Covering | None:
        """What keeps `target` in maintenance now (the one that lasts longest), or None."""
        silences, windows = await self._fresh.get()
        now = self._clock()
        entries = silences + window_entries([w for w in windows if w.covers(target)], now)
        return covering(target, now, entries)

    async def holds(self, target: str, what: str, say: Callable[[str], None]) -> bool:
        """Whether `what` ("an incident", "a remedy") must wait because `target` is in
        maintenance; the first hold of each silence on each target is said."""
        found = await self.covering(target)
        if found is None:
            return False
        if (target, found.id) not in self._said:
            self._said.add((target, found.id))
            say(f"{target}: {found.says()}; checks go on, {what} waits")
        return True

    # -- listing ----------------------------------------------------------------------------

    async def current(self, *, upcoming: bool = True) -> list[Covering]:
        """Silences on or still to come, and each window on now (or its next time): by start."""
        now = self._clock()
        rows = await self._silences.current(now)
        windows = await self.windows()
        found = [_entry(r) for r in rows] + window_entries(windows, now, upcoming=upcoming)
        return sorted(found, key=lambda e: (e.starts_at, e.ends_at, e.id))

    # -- one-off silences -------------------------------------------------------------------

    async def silence(
        self, target: str, for_s: float, reason: str, by: str | None = None
    ) -> Covering:
        """`webops silence TARGET --for 2h --reason TEXT`: from now, for `for_s` seconds."""
        if for_s <= 0:
            raise InvalidInput("--for must be longer than 0, e.g. 30m or 2h")
        now = self._clock()
        try:
            spec = SilenceSpec.model_validate(
                {
                    "targets": [target],
                    "starts_at": datetime.fromtimestamp(now, UTC),
                    "ends_at": datetime.fromtimestamp(now + for_s, UTC),
                    "reason": reason,
                }
            )
        except ValueError as exc:  # pydantic's ValidationError: one line naming the problem
            raise InvalidInput(first_line(exc).replace("Value error, ", "")) from None
        return await self.put_silence(spec, by)

    async def put_silence(self, spec: SilenceSpec, by: str | None = None) -> Covering:
        """Create the silence, or replace the one with its name (the ops document's way)."""
        now = self._clock()
        starts = spec.starts_at.timestamp() if spec.starts_at else now
        row = SilenceRow(
            name=spec.name,
            targets=json.dumps(spec.targets),
            reason=spec.reason,
            starts_at=starts,
            ends_at=spec.ends_at.timestamp(),
            created_by=by,
            created_at=now,
        )
        stored = _entry(await self._silences.add(row))
        self._fresh.invalidate()
        await self._changed(by, "silence_added", _detail(stored), target=", ".join(spec.targets))
        return stored

    async def remove_silence(self, key: str, by: str | None = None) -> Covering:
        """Forget the silence with this id or name."""
        row = await self._silences.remove(key.strip())
        if row is None:
            raise NotFound(f"no silence {key!r}; webops silence list shows them")
        self._fresh.invalidate()
        removed = _entry(row)
        await self._changed(
            by, "silence_removed", _detail(removed), target=", ".join(removed.targets)
        )
        return removed

    # -- recurring windows ------------------------------------------------------------------

    async def windows(self) -> list[MaintenanceWindowSpec]:
        """The stored windows by name (one that a stricter rule now refuses is left out)."""
        return (await self._fresh.reload())[1]

    async def put_window(
        self, spec: MaintenanceWindowSpec, by: str | None = None
    ) -> MaintenanceWindowSpec:
        """Create the window, or replace the one with its name."""
        now = self._clock()
        replaced = await self._windows.get(spec.name) is not None
        await self._windows.replace(
            MaintenanceWindowRow(
                name=spec.name,
                targets=json.dumps(spec.targets),
                cron=spec.cron,
                duration=spec.duration,
                reason=spec.reason,
                created_at=now,
                updated_at=now,
            )
        )
        self._fresh.invalidate()
        detail = spec.model_dump() | {"replaced": replaced}
        await self._changed(by, "maintenance_added", detail, target=", ".join(spec.targets))
        return spec

    async def remove_window(self, name: str, by: str | None = None) -> MaintenanceWindowSpec:
        row = await self._windows.get(name)
        if row is None or not await self._windows.remove(name):
            raise NotFound(f"no maintenance window {name!r}; webops maintenance list shows them")
        self._fresh.invalidate()
        try:
            spec = _window(row)
        except ValueError:  # stored before a stricter rule: removed all the same
            spec = MaintenanceWindowSpec.model_construct(
                name=row.name, targets=[], cron=row.cron, duration=row.duration, reason=row.reason
            )
        await self._changed(
            by, "maintenance_removed", spec.model_dump(), target=", ".join(spec.targets)
        )
        return spec


def _detail(entry: Covering) -> dict[str, Any]:
    return {"id": entry.id, "reason": entry.reason, "until": entry.until}
