"""The ops document's alerting tables: `[[notify]]`, `[[maintenance]]` and `[[silence]]`.

Each is read, checked, stored, removed and written back here; agent/core/ops_sections.py puts
them in the registry the plan and the export share, so they behave like the other tables.

- `[[notify]]` is a notification route. Its URL often carries a token, so the export writes it
  as `url = { stored = true }` (keep the stored URL) and a person may write
  `url = { env = "VAR" }`; routes compare by what their sealed URL decrypts to, so applying
  the same document twice changes nothing, and a changed URL is only ever shown "(changed)".
- `[[maintenance]]` is a recurring window, as stored.
- `[[silence]]` is a *named* silence. Those made by `webops silence TARGET` have no name and are
  not the document's: they are never listed, changed or pruned by `apply`. Times are TOML
  datetimes or ISO 8601 strings; one without an offset is read as UTC (as cron windows are).
  A silence that has already ended when the document is applied is not stored (it would hold
  nothing) and counts as unchanged, so an old document does not report "changed" forever;
  naming a stored silence with an end already past ends it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from agent.errors import InvalidInput
from agent.ops.apprise_send import understood
from agent.ops.durations import format_duration
from agent.ops.maintenance import MaintenanceWindowSpec, SilenceSpec
from agent.ops.notify_routes import NotifyRouteSpec, masked_url

if TYPE_CHECKING:
    from agent.core.kernel import Kernel


def written(spec: BaseModel) -> dict[str, Any]:
    """A spec as the person would write it: name first, defaults left out."""
    data = spec.model_dump(exclude_defaults=True)
    return {"name": data.pop("name"), **data}


def sealed_value(field: str, value: Any, stored: str | None) -> Any:
    """A secret field's value: as written, the stored one (`{stored = true}`), or an
    environment variable's (`{env = "VAR"}`)."""
    if not isinstance(value, dict):
        return value
    if value == {"stored": True}:
        if stored is None:
            raise InvalidInput(f"{field}: {{stored = true}} but none is stored under this name")
        return stored
    if set(value) == {"env"} and isinstance(value["env"], str):
        if value["env"] not in os.environ:
            raise InvalidInput(f"{field}: environment variable {value['env']} is not set")
        return os.environ[value["env"]]
    raise InvalidInput(f'{field}: write a value, {{stored = true}} or {{env = "VARIABLE"}}')


# -- [[notify]] --------------------------------------------------------------------------------


async def notify_routes(kernel: Kernel) -> dict[str, BaseModel]:
    """The stored routes whose URL opens (a locked one is not the document's to compare)."""
    return {spec.name: spec for spec in await kernel.notifications.list()}


def notify_route(entry: dict[str, Any], current: BaseModel | None) -> BaseModel:
    stored = current.url if isinstance(current, NotifyRouteSpec) else None
    if "url" in entry:
        entry = entry | {"url": sealed_value("url", entry["url"], stored)}
    spec = NotifyRouteSpec.model_validate(entry)
    if not understood(spec.url):
        raise InvalidInput(
            f"url: apprise does not understand {masked_url(spec.url)} (a known scheme such as "
            "json://, ntfy://, mailto://, with its required parts)"
        )
    return spec


async def put_notify_route(kernel: Kernel, spec: BaseModel, exists: bool) -> None:
    assert isinstance(spec, NotifyRouteSpec)
    await kernel.notifications.put(spec)


async def remove_notify_route(kernel: Kernel, name: str) -> None:
    await kernel.notifications.remove(name)


def notify_document(spec: BaseModel) -> dict[str, Any]:
    """The route without its URL in clear, `remind_every` as people write it ("30m")."""
    assert isinstance(spec, NotifyRouteSpec)
    data = written(spec) | {"url": {"stored": True}}
    every = spec.remind_every
    if every:
        exact = every >= 1 and every == int(every)
        data["remind_every"] = format_duration(every) if exact else every
    return data


# -- [[maintenance]] ---------------------------------------------------------------------------


async def maintenance_windows(kernel: Kernel) -> dict[str, BaseModel]:
    return {spec.name: spec for spec in await kernel.silences.windows()}


def maintenance_window(entry: dict[str, Any], _current: BaseModel | None) -> BaseModel:
    return MaintenanceWindowSpec.model_validate(entry)


async def put_maintenance_window(kernel: Kernel, spec: BaseModel, exists: bool) -> None:
    assert isinstance(spec, MaintenanceWindowSpec)
    await kernel.silences.put_window(spec)


async def remove_maintenance_window(kernel: Kernel, name: str) -> None:
    await kernel.silences.remove_window(name)


# -- [[silence]] -------------------------------------------------------------------------------


def _instant(value: datetime) -> datetime:
    """UTC, and exactly what the stored float reads back as (so a stored silence and the
    document's compare equal); no offset means UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(value.timestamp(), UTC)


async def named_silences(kernel: Kernel) -> dict[str, BaseModel]:
    """Named silences not yet ended; `webops silence` ones (no name) are left out."""
    found: dict[str, BaseModel] = {}
    for entry in await kernel.silences.current():
        if entry.kind != "silence" or entry.id.isdigit():
            continue
        found[entry.id] = SilenceSpec(
            name=entry.id,
            targets=entry.targets,
            starts_at=datetime.fromtimestamp(entry.starts_at, UTC),
            ends_at=datetime.fromtimestamp(entry.ends_at, UTC),
            reason=entry.reason,
        )
    return found


def named_silence(entry: dict[str, Any], current: BaseModel | None) -> BaseModel:
    """A `[[silence]]`; one without `starts_at` keeps the start it was first stored with."""
    if not entry.get("name"):
        raise InvalidInput("name: a silence in the ops document needs a name")
    spec = SilenceSpec.model_validate(entry)
    starts = spec.starts_at
    if starts is None and isinstance(current, SilenceSpec):
        starts = current.starts_at
    return spec.model_copy(
        update={
            "starts_at": _instant(starts) if starts is not None else None,
            "ends_at": _instant(spec.ends_at),
        }
    )


def silence_ended(spec: BaseModel, now: float) -> bool:
    """Whether the silence is over at `now` (then it is not stored, unless it ends one)."""
    return isinstance(spec, SilenceSpec) and spec.ends_at.timestamp() <= now


async def put_named_silence(kernel: Kernel, spec: BaseModel, exists: bool) -> None:
    assert isinstance(spec, SilenceSpec)
    await kernel.silences.put_silence(spec)


async def remove_named_silence(kernel: Kernel, name: str) -> None:
    await kernel.silences.remove_silence(name)
