"""Who may use the REST API, and as what: bearer tokens with roles.

A token is `webops_` + 8 hex characters (its public prefix, used to find its row) + 43 random
url-safe characters. Only the sha256 of the whole token is stored, and the presented token's hash
is compared with `hmac.compare_digest`, so neither the database nor response timings give it away.
Tokens carry 256 bits of randomness; a slow password hash would add nothing but latency.

Looked-up tokens are kept for `CACHE_S` (see `agent.fresh`) so that a busy API does not read the
database on every request: a token revoked by this process stops working at once, one revoked by
another process (say `webops token revoke` while `webops serve` runs) within `CACHE_S` while the
API is busy, and within twice that after a quiet spell (a stale token is served while its row is
read again, so the clients do not all wait on that read each second).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from enum import IntEnum

from pydantic import BaseModel

from agent.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from agent.fresh import Fresh
from storage.repositories.tokens import TokenRepository
from storage.tables import ApiTokenRow

PREFIX = "webops_"
CACHE_S = 1.0
#: `last_used_at` is written at most this often per token (a write per request would be waste).
TOUCH_EVERY_S = 60.0
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.@-]{0,63}")  # fullmatch: no trailing newline
_TOKEN = re.compile(r"webops_([0-9a-f]{8})[A-Za-z0-9_-]{43}")


class Role(IntEnum):
    """Each role may do everything the ones below it may."""

    VIEWER = 1  # reads
    OPERATOR = 2  # also chats, runs tasks, approves and denies
    ADMIN = 3  # also manages agents, targets, runbooks and tokens

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls[value.upper()]
        except KeyError:
            names = ", ".join(r.name.lower() for r in cls)
            raise InvalidInput(f"unknown role {value!r}; use one of {names}") from None

    def __str__(self) -> str:
        return self.name.lower()


class TokenView(BaseModel):
    """What `webops token list --json` and `GET /api/tokens` show: never the secret."""

    name: str
    role: str
    prefix: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None

    @classmethod
    def from_row(cls, row: ApiTokenRow) -> TokenView:
        return cls(
            name=row.name,
            role=row.role,
            prefix=row.prefix,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


class IssuedToken(TokenView):
    """The one time the secret is shown: at creation."""

    token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Tokens:
    def __init__(self, rows: TokenRepository, clock: Callable[[], float] = time.time) -> None:
        self._rows = rows
        self._clock = clock
        self._cache: dict[str, Fresh[ApiTokenRow | None]] = {}
        self._touching: set[asyncio.Future[None]] = set()

    async def create(self, name: str, role: str) -> IssuedToken:
        if not _NAME.fullmatch(name):
            raise InvalidInput(
                f"token name {name!r} must start with a letter and hold at most 64 letters, "
                "digits, '.', '@', '-' or '_'"
            )
        parsed = Role.parse(role)
        existing = await self._rows.get(name)
        if existing is not None:
            if existing.revoked_at is None:
                raise AlreadyExists(f"a token named {name!r} already exists; revoke it first")
            await self._rows.remove(name)  # a revoked name may be reused; the audit log remembers
        prefix = secrets.token_hex(4)
        token = f"{PREFIX}{prefix}{secrets.token_urlsafe(32)}"
        row = ApiTokenRow(
            name=name,
            role=str(parsed),
            prefix=prefix,
            token_hash=hash_token(token),
            created_at=self._clock(),
        )
        row = await self._rows.add(row)  # a taken name raises DuplicateKey, an AlreadyExists
        return IssuedToken(**TokenView.from_row(row).model_dump(), token=token)

    async def list(self) -> list[TokenView]:
        return [TokenView.from_row(r) for r in await self._rows.list()]

    async def revoke(self, name: str) -> TokenView:
        if not await self._rows.revoke(name, self._clock()):
            found = await self._rows.get(name)
            if found is None:
                raise NotFound(f"no token named {name!r}")
            raise Conflict(f"token {name!r} is already revoked")
        self._cache.clear()  # refused from now on in this process
        row = await self._rows.get(name)
        assert row is not None
        return TokenView.from_row(row)

    async def authenticate(self, token: str) -> tuple[str, Role] | None:
        """The token's (name, role), or None for a malformed, unknown or revoked token."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        prefix = match.group(1)
        fresh = self._cache.get(prefix)
        if fresh is None:
            # Never served stale: a token revoked in another process is refused within
            # CACHE_S, as `webops token revoke` promises.
            fresh = self._cache[prefix] = Fresh(lambda: self._rows.by_prefix(prefix), CACHE_S)
        row = await fresh.get()
        if row is None:
            self._cache.pop(prefix, None)  # unknown prefixes are not kept: they are unbounded
            return None
        now = self._clock()
        if not hmac.compare_digest(hash_token(token), row.token_hash) or row.revoked_at:
            return None
        if row.id is not None and (row.last_used_at or 0.0) + TOUCH_EVERY_S < now:
            row.last_used_at = now
            # In the background: a read must not wait for the write lock (another process may
            # hold it), and a lost "last used" costs nothing.
            touch = asyncio.ensure_future(self._rows.touch(row.id, now))
            self._touching.add(touch)
            touch.add_done_callback(self._touched)
        return row.name, Role.parse(row.role)

    def _touched(self, task: asyncio.Future[None]) -> None:
        self._touching.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a failed touch is not worth a warning

    async def settle(self) -> None:
        """Wait for background writes (before the database closes)."""
        await asyncio.gather(*self._touching, return_exceptions=True)
