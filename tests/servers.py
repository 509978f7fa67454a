"""Real servers on 127.0.0.1 for tests and the demo world: HTTP with settable responses, TLS
with a generated certificate, and a port with nothing listening.

Everything binds port 0 (the OS picks a free port), runs in daemon threads and stops in well
under a second, so tests can use as many as they like.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

__all__ = [
    "HttpServer",
    "LocalServer",
    "QuietServer",
    "Response",
    "TlsServer",
    "closed_port",
    "make_cert",
]


@dataclass(frozen=True)
class Response:
    """What the HTTP server answers: status, body, content type, and a delay before answering."""

    status: int = 200
    body: str | bytes = "ok"
    content_type: str = "text/plain; charset=utf-8"
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: Any

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts under test) are expected; keep stderr quiet."""


class LocalServer:
    """A `ThreadingHTTPServer` on 127.0.0.1:0, serving in a daemon thread from the start;
    handlers reach their server's owner as `self.server.owner`. What every fake service here
    (targets, webhooks, a language model) shares."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._stopping = threading.Event()
        self._server = QuietServer(("127.0.0.1", 0), handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def stop(self) -> None:
        """Stop serving and close the socket; delayed handlers are released at once."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    server: QuietServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        owner = self.server.owner
        response = owner.response_for(self.path)
        with owner._lock:
            owner.requests.append(self.path)
        if response.delay_s > 0 and owner._stopping.wait(response.delay_s):
            return
        body = response.body.encode() if isinstance(response.body, str) else response.body
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET
    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class HttpServer(LocalServer):
    """`ThreadingHTTPServer` on 127.0.0.1:0 whose responses the test sets while it runs.

    `respond(...)` sets the answer for every path, `respond(..., path="/health")` for one path
    (exact match, query included); `requests` lists the paths asked for, in order.
    """

    def __init__(self, response: Response | None = None) -> None:
        self.default = response or Response()
        self.routes: dict[str, Response] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        super().__init__(_Handler)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def respond(self, *, path: str | None = None, **changes: Any) -> None:
        """Change the response (fields of `Response`) for all paths or for one."""
        with self._lock:
            if path is None:
                self.default = replace(self.default, **changes)
            else:
                self.routes[path] = replace(self.routes.get(path, self.default), **changes)

    def response_for(self, path: str) -> Response:
        with self._lock:
            return self.routes.get(path, self.default)


def make_cert(
    tmp_path: Path, days_valid: float, common_name: str = "localhost"
) -> tuple[Path, Path]:
    """A self-signed EC certificate valid from a day ago until `days_valid` days from now,
    for `common_name`, localhost and 127.0.0.1. Returns `(cert_path, key_path)` (PEM), the order
    `ssl.SSLContext.load_cert_chain` takes them in. A negative `days_valid` makes it expired."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    not_after = now + dt.timedelta(days=days_valid)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now - dt.timedelta(days=1), not_after - dt.timedelta(days=1)))
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(common_name),
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    stem = f"{common_name}-{days_valid:g}d".replace("/", "_")
    cert_path = tmp_path / f"{stem}.crt"
    key_path = tmp_path / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TlsServer:
    """A TCP server on 127.0.0.1:0 that completes a TLS handshake with each client, using the
    given certificate, and then closes the connection. Enough to measure a certificate."""

    def __init__(self, cert_path: Path, key_path: Path) -> None:
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert_path, key_path)
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self._stopping = threading.Event()
        self.handshakes = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handshake, args=(conn,), daemon=True).start()

    def _handshake(self, conn: socket.socket) -> None:
        conn.settimeout(2.0)
        try:
            with self._context.wrap_socket(conn, server_side=True) as tls:
                self.handshakes += 1
                with contextlib.suppress(OSError, ValueError):
                    tls.unwrap()  # answer the client's close_notify
        except (OSError, ValueError):
            pass  # clients that hang up or do not speak TLS
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2)
        self._socket.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 with (almost certainly) nothing listening: bound, read, released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
