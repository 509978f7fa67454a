"""`webops apply -f ops.toml`: make the database match the ops document, all or nothing.

The whole document is read and every entry validated, and what would change is worked out,
before anything is stored: a bad entry anywhere is one line naming its table, index and field,
and nothing is applied. Entries are compared in their canonical form (a runbook's secrets by
what they decrypt to), so applying the same document twice changes nothing the second time.
Only the sections the document has are touched, and a stored entry the document does not name
is removed only with `prune`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from agent.core.ops_sections import SECTIONS, Section
from agent.errors import InvalidInput
from agent.ops.durations import format_duration
from agent.ops.targets import RunbookSpec
from agent.ops.toml_documents import parse_toml, tables

if TYPE_CHECKING:
    from agent.core.kernel import Kernel

Op = Literal["+", "~", "-"]


@dataclass
class Change:
    """One entry created (+), updated (~) or removed (-), with what changed in it."""

    op: Op
    table: str
    name: str
    fields: list[str] = field(default_factory=list)
    spec: BaseModel | None = None
    section: Section | None = None

    def line(self) -> str:
        head = f"{self.op} {self.table} {self.name}"
        return f"{head}: {'; '.join(self.fields)}" if self.fields else head

    def as_json(self) -> dict[str, Any]:
        return {"op": self.op, "table": self.table, "name": self.name, "fields": self.fields}


@dataclass
class Plan:
    """What applying a document does; `unchanged` counts entries already as written."""

    source: str
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0

    def counts(self) -> dict[str, int]:
        ops = [c.op for c in self.changes]
        return {
            "created": ops.count("+"),
            "updated": ops.count("~"),
            "removed": ops.count("-"),
            "unchanged": self.unchanged,
        }


def _shown(key: str, value: Any) -> str:
    span = key.endswith("_s") or key == "remind_every"
    if span and isinstance(value, int | float) and not isinstance(value, bool):
        return format_duration(value) if value >= 1 and value == int(value) else f"{value:g}s"
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)


def _flat(data: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            flat |= {f"{key}.{inner}": item for inner, item in value.items()}
        else:
            flat[key] = value
    return flat


def differences(section: Section, old: BaseModel, new: BaseModel) -> list[str]:
    """`interval_s 30s -> 15s` per changed field; a secret only as `secrets.X (changed)`."""
    before, after = _flat(old.model_dump(mode="json")), _flat(new.model_dump(mode="json"))
    lines = []
    for key in sorted(set(before) | set(after), key=lambda k: (k not in after, k)):
        if before.get(key) == after.get(key):
            continue
        if key.split(".")[0] in section.secret_fields:
            state = "added" if key not in before else "removed" if key not in after else "changed"
            lines.append(f"{key} ({state})")
        elif key not in before:
            lines.append(f"{key} {_shown(key, after[key])}")
        elif key not in after:
            lines.append(f"{key} removed")
        else:
            lines.append(f"{key} {_shown(key, before[key])} -> {_shown(key, after[key])}")
    return lines


def _error(source: str, table: str, index: int, exc: Exception) -> InvalidInput:
    where = f"{source}: [[{table}]] #{index + 1}"
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        place = ".".join(str(part) for part in error["loc"]) or "definition"
        message = str(error["msg"]).removeprefix("Value error, ")
        return InvalidInput(f"{where}: {place}: {message}")
    message = exc.message if isinstance(exc, InvalidInput) else str(exc)
    name_field = "name: " if message.startswith("invalid agent name") else ""
    return InvalidInput(f"{where}: {name_field}{message.splitlines()[0]}")


async def plan(kernel: Kernel, text: str, source: str, *, prune: bool = False) -> Plan:
    """What applying `text` would change; `InvalidInput` (one line) when any entry is bad."""
    document = parse_toml(text, source)
    known = {s.table for s in SECTIONS}
    unknown = sorted(set(document) - known)
    if unknown:
        tables_known = ", ".join(f"[[{t}]]" for t in sorted(known))
        raise InvalidInput(f"{source}: unknown table {unknown[0]!r}; use {tables_known}")
    result = Plan(source)
    now = kernel.clock()
    final: dict[str, dict[str, BaseModel]] = {}
    for section in SECTIONS:
        current = dict(await section.current(kernel))
        if section.table not in document:
            final[section.table] = current
            continue
        desired: dict[str, BaseModel] = {}
        for index, entry in enumerate(tables(document, section.table, source)):
            name = entry.get("name")
            try:
                spec = section.validate(dict(entry), current.get(str(name)))
            except (ValidationError, InvalidInput, ValueError) as exc:
                raise _error(source, section.table, index, exc) from None
            if spec_name(spec) in desired:
                raise InvalidInput(
                    f"{source}: [[{section.table}]] #{index + 1}: name: "
                    f"{spec_name(spec)!r} is defined twice"
                )
            desired[spec_name(spec)] = spec
        for name, spec in desired.items():
            old = current.get(name)
            if old is None and section.ended is not None and section.ended(spec, now):
                result.unchanged += 1  # over already: storing it would hold nothing
            elif old is None:
                result.changes.append(Change("+", section.table, name, [], spec, section))
            elif old != spec:
                found = differences(section, old, spec) or ["(changed)"]
                result.changes.append(Change("~", section.table, name, found, spec, section))
            else:
                result.unchanged += 1
        kept = dict(desired)
        for name in sorted(set(current) - set(desired)):
            if prune:
                result.changes.append(Change("-", section.table, name, [], None, section))
            else:
                kept[name] = current[name]
        final[section.table] = kept
    _check_references(final, source)
    return result


def spec_name(spec: BaseModel) -> str:
    name = getattr(spec, "name", None)
    assert isinstance(name, str)
    return name


def _check_references(final: dict[str, dict[str, BaseModel]], source: str) -> None:
    """Every runbook left verifies with a target left (a dangling one was refused: issue 18)."""
    targets = final.get("target", {})
    for runbook in final.get("runbook", {}).values():
        verifies = runbook.verify_target if isinstance(runbook, RunbookSpec) else None
        if verifies and verifies not in targets:
            raise InvalidInput(
                f"{source}: runbook {spec_name(runbook)!r} verifies with target "
                f"{verifies!r}, which would not be defined"
            )


async def carry_out(kernel: Kernel, planned: Plan) -> None:
    """Store the plan: creations and updates in section order, then removals in reverse (a
    runbook goes before the target it verifies with); one `config_applied` audit entry."""
    puts = [c for c in planned.changes if c.op != "-"]
    removals = [c for c in planned.changes if c.op == "-"]
    order = {s.table: i for i, s in enumerate(SECTIONS)}
    for change in sorted(puts, key=lambda c: order[c.table]):
        assert change.section is not None and change.spec is not None
        await change.section.put(kernel, change.spec, change.op == "~")
    for change in sorted(removals, key=lambda c: -order[c.table]):
        assert change.section is not None
        await change.section.remove(kernel, change.name)
    if planned.changes:
        detail = {"source": planned.source, **planned.counts()}
        await kernel.audit_trail.change(None, "config_applied", detail)


async def apply_document(
    kernel: Kernel, text: str, source: str, *, prune: bool = False, dry_run: bool = False
) -> Plan:
    """`webops apply`: plan, and unless `dry_run` store it."""
    planned = await plan(kernel, text, source, prune=prune)
    if not dry_run:
        await carry_out(kernel, planned)
    return planned
