"""`webops export config`: the stored state as an ops document (what `webops apply` reads).

Written with tomlkit so that exporting into a file a person keeps updates it in place: an entry
that still means what is stored keeps its comments, order and formatting untouched; a changed
one has only its changed keys rewritten; gone ones are dropped and new ones appended. Secrets
are never written: each is `{ stored = true }`, which `apply` reads as "keep the stored value",
so export then apply changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import tomlkit
from pydantic import BaseModel, ValidationError
from tomlkit.items import AoT, Table

from agent.core.ops_sections import SECTIONS, Section
from agent.errors import InvalidInput

if TYPE_CHECKING:
    from tomlkit.toml_document import TOMLDocument

    from agent.core.kernel import Kernel

HEADER = (
    "webops ops document: `webops apply -f FILE` makes the database match it. "
    "Secrets are never written here: { stored = true } keeps the stored value, "
    '{ env = "VAR" } reads one from the environment.'
)


def _means(section: Section, table: Table, stored: BaseModel) -> bool:
    """Whether an entry in the person's file already says what is stored, without a secret
    in clear (one written so by hand is replaced by `{ stored = true }`)."""
    written = table.unwrap()
    texts = list(_strings(written))
    for name in section.secret_fields:
        held = getattr(stored, name, {})
        values = held.values() if isinstance(held, dict) else [held]
        if any(value and value in text for value in values for text in texts):
            return False
    try:
        return section.validate(dict(written), stored) == stored
    except (ValidationError, InvalidInput, ValueError):
        return False


def _strings(value: Any) -> list[str]:
    """Every string in a written entry, however nested."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _value(value: Any) -> Any:
    """A table's value as a person writes it: `env = { A = "b" }` on one line."""
    if not isinstance(value, dict):
        return value
    inline = tomlkit.inline_table()
    inline.update({key: _value(item) for key, item in value.items()})
    return inline


def _entry(data: dict[str, Any]) -> Table:
    table = tomlkit.table()
    for key, value in data.items():
        table[key] = _value(value)
    table.add(tomlkit.nl())
    return table


def _rewrite(table: Table, wanted: dict[str, Any]) -> None:
    """`table` made to say `wanted`, touching only the keys whose values differ."""
    for key in [k for k in table if k not in wanted]:
        del table[key]
    for key, value in wanted.items():
        if key not in table or table[key].unwrap() != value:
            table[key] = _value(value)


def _section(document: TOMLDocument, section: Section, stored: dict[str, BaseModel]) -> None:
    existing = document.get(section.table)
    if not isinstance(existing, AoT):
        if section.table in document:
            del document[section.table]
        if stored:
            document.append(section.table, tomlkit.aot())
            existing = document[section.table]
            assert isinstance(existing, AoT)
        else:
            return
    seen: set[str] = set()
    for index in reversed(range(len(existing))):
        table = existing[index]
        name = table.unwrap().get("name")
        if not isinstance(name, str) or name not in stored or name in seen:
            existing.body.pop(index)  # AoT has no __delitem__ in every tomlkit release
            continue
        seen.add(name)
        if not _means(section, table, stored[name]):
            _rewrite(table, section.document(stored[name]))
    for name in sorted(set(stored) - seen):
        existing.append(_entry(section.document(stored[name])))
    if not stored:
        del document[section.table]


async def export_document(kernel: Kernel, existing: str | None = None) -> str:
    """The ops document for what is stored now; `existing` is the file's text to update."""
    if existing is None:
        document = tomlkit.document()
        document.add(tomlkit.comment(HEADER))
    else:
        try:
            document = tomlkit.parse(existing)
        except tomlkit.exceptions.ParseError as exc:
            raise InvalidInput(f"the file to update is not valid TOML: {exc}") from None
    for section in SECTIONS:
        _section(document, section, dict(await section.current(kernel)))
    return tomlkit.dumps(document)
