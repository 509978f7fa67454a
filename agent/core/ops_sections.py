"""The tables of the ops document (`webops apply -f ops.toml`), one `Section` per `[[table]]`.

Each section reads what is stored now (specs by name), turns one table of the document into a
spec (every rule checked there, so a bad entry is refused before anything is stored), stores a
spec (create or replace by name), removes one, and says how a spec is written back. The plan
(ops_document.py) and the export (ops_export.py) are written once against this shape: a new
table is one more `Section` in `SECTIONS` (`[[notify]]`, `[[maintenance]]` and `[[silence]]`
are in ops_alerting_sections.py).

Secrets are never written in clear by the export. A runbook's secret may be given as
`{ stored = true }` (keep the value stored under that name now) or `{ env = "VAR" }` (read it
from the environment of `webops apply`); specs hold the values themselves, so two runbooks
compare by what their secrets decrypt to.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from agent.core import ops_alerting_sections as alerting
from agent.errors import InvalidInput
from agent.mind.personality import PRESETS, TRAITS, Personality, build_personality
from agent.mind.profile import check_agent_name, personality_of
from agent.ops.targets import RunbookSpec, TargetSpec

if TYPE_CHECKING:
    from agent.core.kernel import Kernel


class AgentSpec(BaseModel):
    """An agent as the ops document sets it: its preset label and its base traits (what
    `webops agent create` takes); experience's drift, emotions and memories are not config."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    preset: str
    personality: Personality


class AgentEntry(BaseModel):
    """One `[[agent]]` table as written: `webops agent create`'s options."""

    model_config = ConfigDict(extra="forbid")

    name: str
    preset: str | None = None
    openness: float | None = Field(None, ge=0, le=1)
    conscientiousness: float | None = Field(None, ge=0, le=1)
    extraversion: float | None = Field(None, ge=0, le=1)
    agreeableness: float | None = Field(None, ge=0, le=1)
    neuroticism: float | None = Field(None, ge=0, le=1)


@dataclass(frozen=True)
class Section:
    """One `[[table]]` of the ops document; `put` is told whether the name exists already."""

    table: str
    current: Callable[[Kernel], Awaitable[Mapping[str, BaseModel]]]
    validate: Callable[[dict[str, Any], BaseModel | None], BaseModel]
    put: Callable[[Kernel, BaseModel, bool], Awaitable[None]]
    remove: Callable[[Kernel, str], Awaitable[None]]
    document: Callable[[BaseModel], dict[str, Any]]
    #: Fields holding credentials: compared, shown only as "(changed)".
    secret_fields: frozenset[str] = frozenset()
    #: Whether an entry is already over at a time (a silence that ended): one not stored is
    #: then left as it is, counted unchanged.
    ended: Callable[[BaseModel, float], bool] | None = None


# -- [[agent]] ---------------------------------------------------------------------------------


async def _agents(kernel: Kernel) -> dict[str, BaseModel]:
    rows = await kernel.roster.rows.list()
    return {
        row.name: AgentSpec(name=row.name, preset=row.preset, personality=personality_of(row))
        for row in rows
    }


def _agent(entry: dict[str, Any], _current: BaseModel | None) -> BaseModel:
    given = AgentEntry.model_validate(entry)
    check_agent_name(given.name)
    traits = {trait: getattr(given, trait) for trait in TRAITS}
    try:
        label, personality = build_personality(given.preset, traits)
    except InvalidInput as exc:  # the traits are in range (checked above): it is the preset
        raise InvalidInput(f"preset: {exc.message}") from None
    return AgentSpec(name=given.name, preset=label, personality=personality)


async def _put_agent(kernel: Kernel, spec: BaseModel, exists: bool) -> None:
    assert isinstance(spec, AgentSpec)
    traits = spec.personality.as_dict()
    if not exists:
        await kernel.create_agent(
            spec.name, spec.preset if spec.preset in PRESETS else None, traits
        )
        return
    await kernel.roster.rows.set_traits(spec.name, spec.preset, traits)
    detail = {"preset": spec.preset, "personality": traits}
    await kernel.audit_trail.change(None, "agent_updated", detail, agent=spec.name)


async def _remove_agent(kernel: Kernel, name: str) -> None:
    await kernel.delete_agent(name)


def _agent_document(spec: BaseModel) -> dict[str, Any]:
    assert isinstance(spec, AgentSpec)
    if PRESETS.get(spec.preset) == spec.personality:
        return {"name": spec.name, "preset": spec.preset}
    return {"name": spec.name, **spec.personality.as_dict()}


# -- [[target]] --------------------------------------------------------------------------------


async def _targets(kernel: Kernel) -> dict[str, BaseModel]:
    await kernel.ops.reload()
    return dict(kernel.ops.targets)


def _target(entry: dict[str, Any], _current: BaseModel | None) -> BaseModel:
    return TargetSpec.model_validate(entry)


async def _put_target(kernel: Kernel, spec: BaseModel, exists: bool) -> None:
    assert isinstance(spec, TargetSpec)
    await kernel.ops.add_target(spec, replace=True)


async def _remove_target(kernel: Kernel, name: str) -> None:
    await kernel.ops.remove_target(name)


_written = alerting.written


# -- [[runbook]] -------------------------------------------------------------------------------


async def _runbooks(kernel: Kernel) -> dict[str, BaseModel]:
    await kernel.ops.reload()
    return dict(kernel.ops.runbooks)


def _secret(name: str, value: Any, current: BaseModel | None) -> Any:
    """A secret's value: as written, the stored one (`{stored = true}`), or an environment
    variable's (`{env = "VAR"}`)."""
    if not isinstance(value, dict):
        return value
    if value == {"stored": True}:
        stored = current.secrets if isinstance(current, RunbookSpec) else {}
        if name not in stored:
            raise InvalidInput(f"secrets.{name}: {{stored = true}} but no such secret is stored")
        return stored[name]
    if set(value) == {"env"} and isinstance(value["env"], str):
        if value["env"] not in os.environ:
            raise InvalidInput(f"secrets.{name}: environment variable {value['env']} is not set")
        return os.environ[value["env"]]
    raise InvalidInput(f'secrets.{name}: write a value, {{stored = true}} or {{env = "VARIABLE"}}')


def _runbook(entry: dict[str, Any], current: BaseModel | None) -> BaseModel:
    secrets = entry.get("secrets")
    if isinstance(secrets, dict):
        entry = entry | {"secrets": {k: _secret(k, v, current) for k, v in secrets.items()}}
    spec = RunbookSpec.model_validate(entry)
    if spec.argv_secret_refusal:
        raise InvalidInput(f"argv: {spec.argv_secret_refusal}")
    return spec


async def _put_runbook(kernel: Kernel, spec: BaseModel, exists: bool) -> None:
    assert isinstance(spec, RunbookSpec)
    await kernel.ops.add_runbook(spec, replace=True)


async def _remove_runbook(kernel: Kernel, name: str) -> None:
    await kernel.ops.remove_runbook(name)


def _runbook_document(spec: BaseModel) -> dict[str, Any]:
    written = _written(spec)
    if written.get("secrets"):
        written["secrets"] = {name: {"stored": True} for name in written["secrets"]}
    return written


#: In the order they are stored (a runbook verifies with a target); removed in reverse.
SECTIONS: tuple[Section, ...] = (
    Section("agent", _agents, _agent, _put_agent, _remove_agent, _agent_document),
    Section("target", _targets, _target, _put_target, _remove_target, _written),
    Section(
        "runbook",
        _runbooks,
        _runbook,
        _put_runbook,
        _remove_runbook,
        _runbook_document,
        secret_fields=frozenset({"secrets"}),
    ),
    Section(
        "notify",
        alerting.notify_routes,
        alerting.notify_route,
        alerting.put_notify_route,
        alerting.remove_notify_route,
        alerting.notify_document,
        secret_fields=frozenset({"url"}),
    ),
    Section(
        "maintenance",
        alerting.maintenance_windows,
        alerting.maintenance_window,
        alerting.put_maintenance_window,
        alerting.remove_maintenance_window,
        _written,
    ),
    Section(
        "silence",
        alerting.named_silences,
        alerting.named_silence,
        alerting.put_named_silence,
        alerting.remove_named_silence,
        _written,
        ended=alerting.silence_ended,
    ),
)
