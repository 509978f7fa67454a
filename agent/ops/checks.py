"""The built-in check skills: HTTP, TCP, DNS and TLS probes that return a `CheckResult`.

Each probe measures, exposes what it saw as `fields`, and judges those fields with conditions
from `agent.ops.conditions`, so what counts as healthy is configuration, not code. A probe never
raises for a failure of the thing it probes (refused, timed out, not resolved, bad handshake):
that is a result with `healthy=False` and a one-line `error`, because for a watcher a dead
service is data. Every probe is bounded by `asyncio.timeout`.

The TLS probe does not verify the certificate on purpose: its job is to measure the certificate
(days left, subject, issuer) even when it is self-signed or already expired.
"""

from __future__ import annotations

import asyncio
import codecs
import errno
import functools
import json
import math
import socket
import ssl
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from agent.ops.conditions import Condition, ConditionResult, format_value, parse

__all__ = [
    "BODY_LIMIT",
    "KINDS",
    "MISSING",
    "CheckKind",
    "CheckResult",
    "ConditionResultModel",
    "default_conditions",
    "dns_check",
    "http_check",
    "run_check",
    "tcp_check",
    "tls_check",
]

CheckKind = Literal["http", "tcp", "dns", "tls"]
KINDS: tuple[CheckKind, ...] = ("http", "tcp", "dns", "tls")
#: `ConditionResultModel.actual` for a field the check did not report.
MISSING = "(missing)"
#: Bodies are cut here: enough for a health endpoint, bounded for a misbehaving one.
BODY_LIMIT = 64 * 1024
#: Checks the autopilot runs at once (agent/core/check_schedule.py): on a loaded loop a quick
#: check still takes ~0.1 s of wall time, and 5,000 targets at 30 s need 167 a second; a hung
#: service holds a slot only for its adapted timeout (ten times its usual p95, at least 0.5 s:
#: agent/ops/service.py).
CONCURRENT_CHECKS = 64
#: Redirects an HTTP check follows (httpx allows 20): a moved page, not a tour of the network.
MAX_REDIRECTS = 5

_DEFAULTS: dict[str, tuple[Condition, ...]] = {
    "http": (parse("status < 400"),),
    "tcp": (parse("connected == true"),),
    "dns": (parse("resolved == true"),),
    "tls": (parse("cert_days > 14"),),
}


def default_conditions(kind: str) -> tuple[Condition, ...]:
    """What a check of this kind asserts when the operator gave no conditions."""
    return _DEFAULTS[kind]


class ConditionResultModel(BaseModel):
    """`agent.ops.conditions.ConditionResult` as plain, serialisable data."""

    model_config = ConfigDict(frozen=True)

    condition: str
    ok: bool
    #: The value the condition saw, as the condition language writes it (`503`, `"UP"`, `true`);
    #: `(missing)` when the field was not there (strings are always quoted, so no clash).
    actual: str
    detail: str = ""

    @classmethod
    def of(cls, result: ConditionResult) -> ConditionResultModel:
        actual = MISSING if result.missing else format_value(result.actual, limit=200)
        return cls(condition=result.condition, ok=result.ok, actual=actual, detail=result.detail)


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: CheckKind
    #: The address checked: a URL for http, `host:port` for tcp and tls, a name for dns.
    target: str
    #: All conditions met and no error.
    healthy: bool
    latency_ms: float | None = None
    #: What the conditions see (`status`, `body`, `json`, `connected`, `cert_days`, ...).
    fields: dict[str, Any] = Field(default_factory=dict)
    conditions: list[ConditionResultModel] = Field(default_factory=list)
    #: One line, e.g. "connection refused", "timed out after 2.0 s"; None when the probe worked.
    error: str | None = None
    #: Wall-clock time (epoch seconds) when the check finished.
    checked_at: float


def _judge(
    kind: CheckKind,
    target: str,
    conditions: Sequence[Condition],
    fields: dict[str, Any],
    error: str | None,
) -> CheckResult:
    """Evaluate conditions against whatever was measured, even after an error, so the report
    shows which expectations failed as well as why the probe did."""
    judged = [c.evaluate(fields) for c in (conditions or _DEFAULTS[kind])]
    latency = fields.get("latency_ms")
    return CheckResult(
        kind=kind,
        target=target,
        healthy=error is None and all(r.ok for r in judged),
        latency_ms=float(latency) if isinstance(latency, int | float) else None,
        fields=fields,
        conditions=[ConditionResultModel.of(r) for r in judged],
        error=_one_line(error) if error is not None else None,
        checked_at=time.time(),
    )


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _elapsed_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _timed_out(timeout_s: float) -> str:
    return f"timed out after {round(float(timeout_s), 3)} s"


def _describe(exc: BaseException, timeout_s: float) -> str:
    """One line for a failed probe, from the most specific cause in the exception chain."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    for cause in seen:
        if isinstance(cause, httpx.TooManyRedirects):
            return f"more than {MAX_REDIRECTS} redirects"
        if isinstance(cause, TimeoutError | httpx.TimeoutException):
            return _timed_out(timeout_s)
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "name not resolved"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not valid: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed: {cause.reason or cause}"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        if isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED:
            return "connection refused"
    for cause in seen:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror[0].lower() + cause.strerror[1:]
    text = str(exc)
    # httpx reports "All connection attempts failed" when every address refused.
    if "connection attempts failed" in text or "Connection refused" in text:
        return "connection refused"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _split_host_port(address: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port`; raises ValueError with a one-line reason."""
    host, sep, port_text = address.rpartition(":")
    if not sep or not host or not port_text.isascii() or not port_text.isdigit():
        raise ValueError(f"invalid address {address!r}: expected host:port")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError(f"invalid port {port} in {address!r}")
    return host, port


async def http_check(
    url: str,
    conditions: Sequence[Condition],
    timeout_s: float = 5.0,
    *,
    client: httpx.AsyncClient | None = None,
    verify_tls: bool = True,
) -> CheckResult:
    """GET `url` (following redirects). Fields: `status`, `latency_ms` (until the body is
    read), `body` (text, first 64 KiB) and, when the body is JSON, `json` for `json.a.b` paths.

    Pass a shared `client` to reuse connections across checks; `verify_tls` then comes from it.
    """
    fields: dict[str, Any] = {}
    owned = client is None
    verify: ssl.SSLContext | bool = verifying_context() if verify_tls else False
    http = client or httpx.AsyncClient(
        verify=verify, timeout=timeout_s, max_redirects=MAX_REDIRECTS
    )
    error: str | None = None
    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            async with http.stream("GET", url, follow_redirects=True, timeout=timeout_s) as resp:
                fields["status"] = resp.status_code
                raw = bytearray()
                async for chunk in resp.aiter_bytes():
                    raw += chunk
                    if len(raw) >= BODY_LIMIT:
                        break
                fields["latency_ms"] = _elapsed_ms(start)
                body = bytes(raw[:BODY_LIMIT]).decode(_charset(resp), errors="replace")
                fields["body"] = body
                document = _json_or_none(body)
                if document is not None:
                    fields["json"] = document
    except (httpx.HTTPError, httpx.InvalidURL, OSError, TimeoutError) as exc:
        error = _describe(exc, timeout_s)
    finally:
        if owned:
            await http.aclose()
    return _judge("http", url, conditions, fields, error)


@functools.cache
def verifying_context() -> ssl.SSLContext:
    """httpx's default verifying context, built once: loading the CA bundle takes ~100 ms of
    blocking work, too much to repeat on the event loop for every check."""
    return httpx.create_ssl_context()


def _charset(response: httpx.Response) -> str:
    """The declared charset if Python knows it, else UTF-8 (never sniffing: that needs the
    whole body)."""
    declared = response.charset_encoding
    if declared:
        try:
            return codecs.lookup(declared).name
        except LookupError:
            pass
    return "utf-8"


def _json_or_none(body: str) -> Any:
    """The parsed body when it is JSON (whatever the content type claims), else None."""
    text = body.strip()
    if not text:
        return None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(document, float) and not math.isfinite(document):
        return None
    return document


async def tcp_check(
    address: str, conditions: Sequence[Condition], timeout_s: float = 5.0
) -> CheckResult:
    """Open and close a TCP connection to `host:port`. Fields: `connected`, `latency_ms`."""
    fields: dict[str, Any] = {"connected": False}
    error: str | None = None
    try:
        host, port = _split_host_port(address)
    except ValueError as exc:
        return _judge("tcp", address, conditions, fields, str(exc))
    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            _reader, writer = await asyncio.open_connection(host, port)
            fields["latency_ms"] = _elapsed_ms(start)
            fields["connected"] = True
    except (OSError, TimeoutError) as exc:
        error = _describe(exc, timeout_s)
    else:
        await _close(writer)
    return _judge("tcp", address, conditions, fields, error)


async def dns_check(
    name: str, conditions: Sequence[Condition], timeout_s: float = 5.0
) -> CheckResult:
    """Resolve `name` with the system resolver. Fields: `resolved`, `addresses` (sorted,
    unique), `latency_ms`. A name that does not resolve is an error as well as `resolved`
    false."""
    fields: dict[str, Any] = {"resolved": False, "addresses": []}
    error: str | None = None
    if not name.strip():
        return _judge("dns", name, conditions, fields, "empty name")
    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            infos = await asyncio.get_running_loop().getaddrinfo(
                name.strip(), None, type=socket.SOCK_STREAM
            )
        fields["latency_ms"] = _elapsed_ms(start)
        fields["addresses"] = sorted({str(info[4][0]) for info in infos})
        fields["resolved"] = bool(fields["addresses"])
        if not fields["resolved"]:
            error = "name not resolved"
    except (OSError, TimeoutError, UnicodeError) as exc:
        # UnicodeError: a label the IDNA codec refuses (empty, or longer than 63 characters).
        error = _describe(exc, timeout_s) if not isinstance(exc, UnicodeError) else "invalid name"
    return _judge("dns", name, conditions, fields, error)


async def tls_check(
    address: str, conditions: Sequence[Condition], timeout_s: float = 5.0
) -> CheckResult:
    """Handshake with `host:port` without verifying, and read the peer certificate. Fields:
    `cert_days` (days until notAfter, negative once expired), `cert_subject`, `cert_issuer`
    (RFC 4514 strings), `cert_not_after` (ISO 8601), `latency_ms` (connect + handshake)."""
    from cryptography import x509  # heavy; only this probe needs it

    fields: dict[str, Any] = {}
    error: str | None = None
    try:
        host, port = _split_host_port(address)
    except ValueError as exc:
        return _judge("tls", address, conditions, fields, str(exc))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            _reader, writer = await asyncio.open_connection(
                host, port, ssl=context, server_hostname=host
            )
            fields["latency_ms"] = _elapsed_ms(start)
            ssl_object = writer.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        await _close(writer)
        if not der:
            error = "the server sent no certificate"
        else:
            cert = x509.load_der_x509_certificate(der)
            not_after = cert.not_valid_after_utc
            fields["cert_days"] = (not_after - datetime.now(UTC)).total_seconds() / 86400.0
            fields["cert_subject"] = cert.subject.rfc4514_string()
            fields["cert_issuer"] = cert.issuer.rfc4514_string()
            fields["cert_not_after"] = not_after.isoformat()
    except (OSError, TimeoutError) as exc:
        error = _describe(exc, timeout_s)
    except ValueError as exc:  # a certificate cryptography cannot parse
        error = f"unreadable certificate: {exc}"
    return _judge("tls", address, conditions, fields, error)


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close politely, but never let a peer that ignores the close hold the probe."""
    writer.close()
    try:
        async with asyncio.timeout(1.0):
            await writer.wait_closed()
    except (OSError, TimeoutError):
        writer.transport.abort()


def shared_client() -> httpx.AsyncClient:
    """One client for every HTTP check of a kernel: a client per check cost a pool, a TLS
    context and a new connection each time, thousands of times a minute at 5,000 targets.

    As many connections as checks run at once, few of them kept alive: httpcore 1.0's pool
    upkeep costs idle connections times all connections on every request (5 ms of CPU per
    check with 64 kept alive, under 2 ms with 8)."""
    return httpx.AsyncClient(
        verify=verifying_context(),
        max_redirects=MAX_REDIRECTS,
        limits=httpx.Limits(max_connections=CONCURRENT_CHECKS, max_keepalive_connections=8),
    )


async def run_check(
    kind: str,
    address: str,
    conditions: Sequence[Condition],
    timeout_s: float = 5.0,
    *,
    client: httpx.AsyncClient | None = None,
) -> CheckResult:
    """Dispatch to the probe for `kind` (one of `KINDS`); HTTP checks use `client` if given."""
    if kind == "http":
        return await http_check(address, conditions, timeout_s, client=client)
    if kind == "tcp":
        return await tcp_check(address, conditions, timeout_s)
    if kind == "dns":
        return await dns_check(address, conditions, timeout_s)
    if kind == "tls":
        return await tls_check(address, conditions, timeout_s)
    raise ValueError(f"unknown check kind {kind!r}; known kinds: {', '.join(KINDS)}")
