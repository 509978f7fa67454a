"""What a target's address and an HTTP runbook's request may look like, checked once for the
CLI, the API and TOML imports alike (they all build `TargetSpec` / `RunbookSpec`).

Issue 18 found `http://` (no host), `http://a b`, port 99999, `tcp h:0`, a method `G ET` and
CRLF in header values all accepted; each then failed at check or run time, or (CRLF) could
smuggle a second header line. The rules follow RFC 3986 for URLs and RFC 9110 for methods and
header fields.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

#: RFC 9110 `token`: what a method or a header name may be made of.
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
#: A host name or an IPv4 literal: no spaces, no controls, no URL punctuation.
HOST = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})")
#: Control characters (C0, DEL) that must never reach a request line, a header or a socket.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _port(text: str, where: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{where}: port must be 1 to 65535, got {text!r}")
    return int(text)


def _host(host: str, where: str) -> None:
    if host.startswith("[") and host.endswith("]"):  # an IPv6 literal
        if re.fullmatch(r"\[[0-9A-Fa-f:.]+\]", host):
            return
    elif HOST.fullmatch(host):
        return
    raise ValueError(f"{where}: invalid host {host!r}")


def http_url(url: str, where: str = "URL") -> str:
    """An absolute http(s) URL with a host and a valid port; no spaces or control characters
    in its host part (the path is the service's business: httpx encodes it, and stored text is
    shown literally)."""
    if not re.match(r"https?://", url):
        raise ValueError(f"{where} must be an http(s):// URL, got {url!r}")
    authority = re.split(r"[/?#]", url.split("://", 1)[1], maxsplit=1)[0]
    if CONTROL.search(authority) or " " in authority:
        raise ValueError(f"{where} must not contain spaces or control characters in its host")
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"{where} has no host: {url!r}")
    netloc = parts.netloc.rpartition("@")[2]
    host, _, port = netloc.rpartition(":") if not netloc.endswith("]") else (netloc, "", "")
    if not host:
        host, port = netloc, ""
    _host(host, where)
    if port or netloc.endswith(":"):
        _port(port, where)
    return url


def host_port(address: str, where: str = "address") -> str:
    """`host:port` with a port from 1 to 65535 (0 is "any port", never a service's)."""
    host, sep, port = address.rpartition(":")
    if not sep or not host:
        raise ValueError(f"{where} needs host:port, got {address!r}")
    _host(host, where)
    _port(port, where)
    return address


def host_name(address: str, where: str = "address") -> str:
    """A name to resolve: no spaces, no controls."""
    _host(address, where)
    return address


def method(value: str) -> str:
    """An HTTP method: one RFC 9110 token (so no space, CR or LF)."""
    if not TOKEN.fullmatch(value):
        raise ValueError(f"invalid HTTP method {value!r}")
    return value


def header(name: str, value: str) -> None:
    """A header's name is a token; its value has no CR, LF or other control but tab."""
    if not TOKEN.fullmatch(name):
        raise ValueError(f"invalid header name {name!r}")
    if CONTROL.search(value.replace("\t", " ")):
        raise ValueError(f"header {name!r} contains a control character (CR, LF, NUL ...)")
