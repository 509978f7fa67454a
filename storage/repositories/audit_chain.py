"""The audit chain's rules and the walk that checks them (`AuditRepository.verify`).

Two rules make an entry's `hash` from the canonical JSON of its fields and the link to the
entry before it: the old one, sha256 (`entry_hash`), which anyone can recompute, and the keyed
one, HMAC-SHA256 under the audit key (`entry_mac`). A log is a run of old entries (written
before the key existed, possibly none) followed by keyed ones; after a non-empty old run, the
first keyed entry must be the `audit_keyed` marker that `AuditRepository` writes.

Whatever someone did to the file, the walk reports and never crashes: an id of 0 or below (no
append makes one), a `ts` that is not a number, a blob where text belongs are each reported as
an altered entry, at the same rows `webops audit` lists. An `Anchor` (the head kept elsewhere)
adds what no chain can show by itself: that the newest entries were cut off or rewritten.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlalchemy.ext.asyncio import AsyncConnection

GENESIS = "0" * 64
#: The entry that starts the keyed part of a log begun by an older version.
MARKER_EVENT = "audit_keyed"

#: Rows per query while verifying: memory stays flat however long the log grows.
_VERIFY_CHUNK = 5_000

_ANCHOR = re.compile(r"([0-9]{1,18}):([0-9a-f]{64})")


def _canonical(
    prev_hash: str,
    ts: float,
    actor: str,
    event: str,
    agent: str | None,
    action: str | None,
    target: str | None,
    detail: str,
    why: str,
) -> bytes:
    """The entry's fields as a canonical JSON array: what both rules hash.

    `ts` goes in as `repr(float)`, the shortest text that reads back as the same float, so the
    hash does not depend on how a JSON library formats numbers; None stays `null`, distinct
    from the string "None".
    """
    return json.dumps(
        [prev_hash, repr(float(ts)), actor, event, agent, action, target, detail, why],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def entry_hash(
    prev_hash: str,
    ts: float,
    actor: str,
    event: str,
    agent: str | None,
    action: str | None,
    target: str | None,
    detail: str,
    why: str,
) -> str:
    """The old, unkeyed rule: sha256 (hex) of the canonical fields. Anyone can compute it."""
    canonical = _canonical(prev_hash, ts, actor, event, agent, action, target, detail, why)
    return hashlib.sha256(canonical).hexdigest()


def entry_mac(
    key: bytes,
    prev_hash: str,
    ts: float,
    actor: str,
    event: str,
    agent: str | None,
    action: str | None,
    target: str | None,
    detail: str,
    why: str,
) -> str:
    """The keyed rule: HMAC-SHA256 (hex) of the canonical fields under the audit key."""
    canonical = _canonical(prev_hash, ts, actor, event, agent, action, target, detail, why)
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def shown(value: Any) -> str:
    """A stored value as text, whatever its type (a blob put there by hand shows as hex)."""
    return value.hex() if isinstance(value, bytes) else str(value)


def _mac_of(key: bytes, row: Sequence[Any]) -> str:
    _, ts, actor, event, agent, action, target, detail, why, link, _digest = row
    return entry_mac(key, link, ts, actor, event, agent, action, target, detail, why)


def _hash_of(row: Sequence[Any]) -> str:
    _, ts, actor, event, agent, action, target, detail, why, link, _digest = row
    return entry_hash(link, ts, actor, event, agent, action, target, detail, why)


def _malformed(row: Sequence[Any]) -> str:
    """Why `row` cannot have been appended as it is ("" if it could)."""
    row_id, ts = int(row[0]), row[1]
    if row_id <= 0:
        return f"entry {row_id} was altered: appended entries have ids from 1 on"
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts):
        return f"entry {row_id} was altered: its ts is {type(ts).__name__}, not a number"
    names = ("actor", "event", "agent", "action", "target", "detail", "why", "prev_hash", "hash")
    for name, value in zip(names, row[2:], strict=True):
        if not isinstance(value, str) and not (value is None and name in names[2:5]):
            return f"entry {row_id} was altered: its {name} is {type(value).__name__}, not text"
    return ""


def is_keyed(key: bytes, row: Sequence[Any]) -> bool:
    """Whether `row` carries a valid MAC under `key` (False for any row damaged by hand)."""
    return not _malformed(row) and hmac.compare_digest(str(row[-1]), _mac_of(key, row))


@dataclass(frozen=True)
class Anchor:
    """The head of the log at some moment: `webops audit --anchor` prints it as `ID:MAC`."""

    id: int
    mac: str

    def __str__(self) -> str:
        return f"{self.id}:{self.mac}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        found = _ANCHOR.fullmatch(text.strip().lower())
        if found is None:
            raise ValueError(
                f"--anchor {text!r} is not ID:MAC as `webops audit --anchor` prints it "
                "(a number, a colon, 64 hex digits)"
            )
        return cls(int(found.group(1)), found.group(2))


@dataclass(frozen=True)
class AuditVerification:
    """The outcome of walking the chain.

    `entries` is how many entries the log holds (the rows `webops audit` lists); `first_bad` is
    the id of the first entry that was altered, does not link to the entry before it, follows
    a gap (a deleted entry), or the anchored entry that is gone or differs.
    """

    ok: bool
    entries: int
    first_bad: int | None
    reason: str


@dataclass
class _Walk:
    key: bytes | None
    key_place: str
    dense_ids: bool
    prev_id: int = 0
    prev_hash: str = GENESIS
    unkeyed: int = 0
    keyed: bool = False

    def fault(self, row: Sequence[Any]) -> str:
        """Why `row` breaks the chain after the rows seen so far, or "" if it does not."""
        row_id = int(row[0])
        if reason := _malformed(row):
            return reason
        if self.dense_ids and row_id != self.prev_id + 1:
            if row_id == self.prev_id + 2:
                return f"entry {self.prev_id + 1} is missing before entry {row_id} (deleted)"
            return (
                f"entries {self.prev_id + 1}-{row_id - 1} are missing before entry {row_id} "
                "(deleted)"
            )
        if row[-2] != self.prev_hash:
            return (
                f"entry {row_id} does not link to the entry before it "
                "(that entry was deleted or re-hashed)"
            )
        return self._rule(row)

    def _rule(self, row: Sequence[Any]) -> str:
        row_id, digest = int(row[0]), str(row[-1])
        altered = f"entry {row_id} was altered: its MAC does not match its content"
        if self.keyed:
            assert self.key is not None
            return "" if hmac.compare_digest(digest, _mac_of(self.key, row)) else altered
        if digest == _hash_of(row):
            self.unkeyed += 1
            return ""
        if self.key is None:
            return (
                f"entry {row_id} carries a MAC but the audit key {self.key_place} is missing: "
                "restore it beside the database to verify the log"
            )
        if not hmac.compare_digest(digest, _mac_of(self.key, row)):
            return f"{altered}, or the audit key {self.key_place} is not the one it was made with"
        if self.unkeyed and row[3] != MARKER_EVENT:
            return (
                f"entry {row_id} was altered: keyed entries after unkeyed ones begin with the "
                f"{MARKER_EVENT} marker"
            )
        self.keyed = True
        return ""


async def walk(
    conn: AsyncConnection,
    columns: tuple[Any, ...],
    key: bytes | None,
    key_place: str,
    dense_ids: bool,
    anchor: Anchor | None,
) -> AuditVerification:
    """Walk every row (ids of 0 and below too) in id order, in chunks; stop at the first bad
    one, then only count the rest. `columns` are the audit table's, `id` first, `hash` last."""
    state = _Walk(key, key_place, dense_ids)
    table_id = columns[0]
    seen, cursor, anchored = 0, None, None

    async def broken(first_bad: int, reason: str) -> AuditVerification:
        total = await conn.execute(core_select(func.count()).select_from(table_id.table))
        return AuditVerification(False, int(total.scalar_one()), first_bad, reason)

    while True:
        query = core_select(*columns).order_by(table_id).limit(_VERIFY_CHUNK)
        if cursor is not None:
            query = query.where(table_id > cursor)
        chunk = (await conn.execute(query)).all()
        if not chunk:
            break
        for row in chunk:
            row_id = cursor = int(row[0])
            if reason := state.fault(row):
                return await broken(row_id, reason)
            if anchor is not None and row_id == anchor.id:
                anchored = str(row[-1])
            state.prev_id, state.prev_hash, seen = row_id, str(row[-1]), seen + 1
    if state.unkeyed and not state.keyed and key is not None:
        return await broken(
            1,
            f"no entry carries a MAC although the audit key {key_place} exists: the log was "
            "rewritten without the key",
        )
    if anchor is not None and anchor.id > 0:
        if anchored is None:
            return await broken(
                anchor.id,
                f"the anchored entry {anchor.id} is gone: the log ends at entry "
                f"{state.prev_id} (its newest entries were cut off)",
            )
        if not hmac.compare_digest(anchored, anchor.mac):
            return await broken(
                anchor.id,
                f"entry {anchor.id} is not the anchored one: the log was rewritten from there "
                "or before",
            )
    return AuditVerification(ok=True, entries=seen, first_bad=None, reason="")
