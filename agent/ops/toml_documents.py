"""Reading a TOML document that a person wrote, for imports and the config file alike.

`tomllib` recurses once per nesting level, so `x = [[[[...]]]]` 5,000 deep raised
RecursionError; it also accepts `"\\u0000"`, a NUL that no target, runbook or theme name can
mean and that C strings downstream cut short. Both become one `InvalidInput` line (issue 18).
"""

from __future__ import annotations

import tomllib
from typing import Any

from agent.errors import InvalidInput

#: Deeper than any definition we read (a runbook's `headers` table is two levels down).
MAX_DEPTH = 32


def _check(value: Any, source: str, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidInput(f"{source}: {path or 'the document'} is nested too deeply")
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput(f"{source}: {path} contains a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise InvalidInput(f"{source}: a key under {path or 'the top'} contains a NUL")
            _check(item, source, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, source, f"{path}[{index}]", depth + 1)


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """The document as a dict, or `InvalidInput` naming the problem: bad syntax, nesting too
    deep to read, or a NUL in any string."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise InvalidInput(f"{source}: nested too deeply to read") from None
    _check(document, source, "", 0)
    return document


def tables(document: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    """`[[key]]` entries; `key = 3`, `key = ["a"]` or a single `[key]` are refused by name."""
    value = document.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InvalidInput(f"{source}: {key!r} must be an array of tables, written [[{key}]]")
    return value
