"""Runbook secrets between the database and a run: opened per runbook, sealed, re-keyed.

A missing or wrong key file must not lock up the whole database: only the runbooks whose
secrets it cannot open are *locked* (listed with the reason, refused when run, every other
command working). And a new key is never made beside secrets sealed with the old one, since
that would turn a recoverable mistake (a key file not copied along) into lost secrets: it is
made only while no runbook holds any, or by `rotate-key --drop-unreadable`, which says so.

Stored form (the runbook row's `secrets` column): JSON `{name: Fernet token}`; a `null` token
is a secret dropped when its key was lost (the runbook stays locked until it is re-added).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agent.errors import InvalidInput, KeyMissing, StorageError

if TYPE_CHECKING:
    from storage.secrets import SecretBox
    from storage.tables import RunbookRow

#: `box(create)`: the database's key; `create` allows making the key file when it is missing.
BoxSource = Callable[[bool], "SecretBox"]


def _stored(row: RunbookRow) -> dict[str, str | None]:
    stored: dict[str, str | None] = json.loads(row.secrets)
    return stored


def holds_secrets(row: RunbookRow) -> bool:
    return any(token is not None for token in _stored(row).values())


@dataclass
class Rotation:
    """What `rotate-key` did: for the CLI's JSON and its one line."""

    key: str
    runbooks: int = 0
    secrets: int = 0
    dropped: list[str] = field(default_factory=list)


class RunbookSecrets:
    def __init__(self, box: BoxSource) -> None:
        self._box = box
        #: runbook name -> why its secrets cannot be used (shown by `runbook list`, said on run).
        self.locked: dict[str, str] = {}

    def open(self, row: RunbookRow) -> dict[str, str]:
        """The plaintext secrets of `row`; when they cannot be read, the runbook is locked and
        every secret is "" (names kept, so its definition still loads and lists)."""
        stored = _stored(row)
        self.locked.pop(row.name, None)
        if not stored:
            return {}
        blank = dict.fromkeys(stored, "")
        dropped = sorted(name for name, token in stored.items() if token is None)
        if dropped:
            self.locked[row.name] = (
                f"runbook {row.name!r}: its secrets ({', '.join(dropped)}) were dropped when "
                "their key was lost; remove the runbook and add it again with them"
            )
            return blank
        try:
            box = self._box(False)
            return {name: box.decrypt(token) for name, token in stored.items() if token}
        except StorageError as exc:
            self.locked[row.name] = f"runbook {row.name!r}: its secrets are unreadable: {exc}"
            return blank

    def seal(self, secrets: dict[str, str], holders: list[str]) -> str:
        """`secrets` encrypted for the row; `holders` are the other runbooks holding secrets,
        without which a missing key may be made anew."""
        if not secrets:
            return "{}"
        try:
            box = self._box(not holders)
        except KeyMissing as exc:
            raise InvalidInput(
                f"{exc}, and runbooks {', '.join(holders)} hold secrets sealed with it; restore "
                "the key file, or `webops secrets rotate-key --drop-unreadable` to start a new "
                "key (their secrets are then lost)"
            ) from None
        return json.dumps({name: box.encrypt(value) for name, value in secrets.items()})

    def rotate(self, rows: list[RunbookRow], *, drop_unreadable: bool) -> list[RunbookRow]:
        """Begin a rotation: a new key first in the key file, and `rows` re-sealed with it (the
        caller stores them, then calls `finish`). Secrets the current key cannot read are
        refused, or with `drop_unreadable` stored as null."""
        try:
            box: SecretBox | None = self._box(False)
        except KeyMissing:
            box = None
        plain: dict[str, dict[str, str] | None] = {}
        for row in rows:
            stored = {k: v for k, v in _stored(row).items() if v is not None}
            if not stored:
                continue
            try:
                if box is None:
                    raise StorageError("no key")
                plain[row.name] = {k: box.decrypt(v) for k, v in stored.items()}
            except StorageError:
                plain[row.name] = None
        unreadable = sorted(name for name, values in plain.items() if values is None)
        if unreadable and not drop_unreadable:
            raise InvalidInput(
                f"the current key cannot read the secrets of runbooks {', '.join(unreadable)}; "
                "restore the right key file, or pass --drop-unreadable to drop those secrets"
            )
        box = box or self._box(True)
        box.begin_rotation()
        changed = []
        for row in rows:
            if row.name not in plain:
                continue
            values = plain[row.name]
            if values is None:
                row.secrets = json.dumps(dict.fromkeys(_stored(row)))
            else:
                row.secrets = json.dumps({k: box.encrypt(v) for k, v in values.items()})
            changed.append(row)
        return changed

    def key_path(self) -> Path | None:
        return self._box(False).key_path

    def finish(self) -> None:
        self._box(False).finish_rotation()
