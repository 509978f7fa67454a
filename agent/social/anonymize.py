"""Stable pseudonyms for what identifies people and machines in an export (k8sgpt's
`--anonymize` is the model): host names, IP addresses, e-mail addresses, tokens and user
names become `host-1`, `ip-1`, `email-1`, `token-1`, `user-1`.

The same value gets the same pseudonym everywhere in one export, so an incident still reads
as a story ("ip-2 failed, user-1 approved fix-shop") without saying whose or where. Numbers,
times, statuses and agents' own names are kept; agents are the program, not people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+([^\s\"',;]+)")
_KEYED_SECRET = re.compile(
    r"(?i)\b(token|secret|password|passwd|api[_-]?key)([=:]\s*)([^\s\"',;&]+)"
)
_OPAQUE = re.compile(r"\b(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{24,}\b")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_URL_HOST = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)(?:[^@/\s]*@)?(\[[^\]]+\]|[^/:\s?#\[\]]+)")
_TLDS = (
    "com|net|org|io|dev|app|cloud|local|localdomain|internal|intra|corp|lan|home|example|test"
    "|de|fr|uk|eu|ch|at|nl"
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_HOST = re.compile(rf"(?i)\b(?:{_LABEL}\.)+(?:{_TLDS})\b|\blocalhost\b")
_PSEUDONYM = re.compile(r"\b(?:host|ip|email|token|user)-\d+\b")


class Anonymizer:
    """One export's pseudonyms: the same input gets the same pseudonym."""

    def __init__(self, users: Iterable[str] = ()) -> None:
        self._names: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        self._users = sorted({u for u in users if u}, key=len, reverse=True)
        self._agents: frozenset[str] = frozenset()

    def pseudonym(self, kind: str, value: str) -> str:
        key = (kind, value.lower() if kind in ("host", "email") else value)
        if key not in self._names:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._names[key] = f"{kind}-{self._counts[kind]}"
        return self._names[key]

    def text(self, value: str) -> str:
        """`value` with every identifying part replaced."""
        value = _EMAIL.sub(lambda m: self.pseudonym("email", m.group()), value)
        value = _BEARER.sub(lambda m: f"{m.group(1)} {self.pseudonym('token', m.group(2))}", value)
        value = _KEYED_SECRET.sub(
            lambda m: m.group(1) + m.group(2) + self.pseudonym("token", m.group(3)), value
        )
        value = _OPAQUE.sub(lambda m: self.pseudonym("token", m.group()), value)
        value = _URL_HOST.sub(lambda m: m.group(1) + self._host(m.group(2)), value)
        value = _IPV4.sub(lambda m: self.pseudonym("ip", m.group()), value)
        value = _IPV6.sub(lambda m: self._ipv6(m.group()), value)
        value = _HOST.sub(lambda m: self._host(m.group()), value)
        for user in self._users:
            pattern = rf"(?<![\w-]){re.escape(user)}(?![\w-])"
            if re.search(pattern, value):
                value = re.sub(pattern, self.pseudonym("user", user).replace("\\", ""), value)
        return value

    def restore(self, value: str) -> str:
        """`value` with this anonymizer's pseudonyms put back: what a language model answered
        about `host-1` is shown to the operator as the host it stands for."""
        originals = {pseudonym: original for (_, original), pseudonym in self._names.items()}
        return _PSEUDONYM.sub(lambda m: originals.get(m.group(), m.group()), value)

    def _host(self, host: str) -> str:
        if re.fullmatch(r"(?:host|ip|email|token|user)-\d+", host):
            return host  # already a pseudonym
        if _IPV4.fullmatch(host):
            return self.pseudonym("ip", host)
        if host.startswith("["):
            return "[" + self.pseudonym("ip", host.strip("[]")) + "]"
        return self.pseudonym("host", host)

    def _ipv6(self, found: str) -> str:
        hexletters = any(c in "abcdefABCDEF" for c in found)
        if found.count(":") < 3 and "::" not in found and not hexletters:
            return found  # a time of day (12:30:05), not an address
        return self.pseudonym("ip", found)

    def documents(self, documents: list[Any]) -> list[Any]:
        """JSON documents with every string anonymized. Who acted (`actor`, `decided_by`) is a
        person unless an agent: those names are found first, so that they are replaced in
        free text too, by the same pseudonym."""
        for found in _actors(documents):
            name = found.rpartition(":")[2]
            if name and name not in self._agents and not _EMAIL.fullmatch(name):
                self._users.append(name)
        self._users.sort(key=len, reverse=True)
        return [self._document(d) for d in documents]

    def _document(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._document(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._document(v) for v in value]
        return self.text(value) if isinstance(value, str) else value

    def keep_agents(self, names: Iterable[str]) -> None:
        """Agents' names are kept (and never taken for user names)."""
        self._agents = frozenset(names)
        self._users = [u for u in self._users if u not in self._agents]


ACTOR_KEYS = frozenset({"actor", "decided_by", "by"})


def _actors(value: Any, key: str | None = None) -> Iterable[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _actors(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _actors(v, key)
    elif isinstance(value, str) and key in ACTOR_KEYS:
        yield value
