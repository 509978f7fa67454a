"""The demo's TLS endpoint (the `cdn` service): its certificate can be swapped for one close to
expiry, the `cert_expiring` fault, and back.

Chosen: a real handshake on 127.0.0.1 with certificates made on the spot, so the agents' TLS
check reads a real certificate's expiry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ssl
import threading
from pathlib import Path
from typing import Any


def _certificate(folder: Path, days: float) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    stem = folder / f"cert-{days:g}d"
    cert_path, key_path = stem.with_suffix(".pem"), stem.with_suffix(".key")
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TlsService:
    """A TLS endpoint whose certificate can be swapped for one close to expiry and back."""

    def __init__(self, name: str, folder: Path) -> None:
        import socket

        self.name = name
        self.fault: str | None = None
        self._good = _certificate(folder, 90)
        self._expiring = _certificate(folder, 3)
        self._context = self._load(self._good)
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self._stopping = threading.Event()
        self._server = threading.Thread(target=self._serve, daemon=True, name=f"demo:{name}")
        self._server.start()

    @staticmethod
    def _load(pair: tuple[Path, Path]) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*pair)
        return context

    def set_expiring(self, expiring: bool) -> None:
        self.fault = "cert_expiring" if expiring else None
        self._context = self._load(self._expiring if expiring else self._good)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._socket.accept()
            except OSError:
                continue
            threading.Thread(target=self._greet, args=(conn,), daemon=True).start()

    def _greet(self, conn: Any) -> None:
        try:
            conn.settimeout(2.0)
            with self._context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def stop(self) -> None:
        """The port is closed when this returns: a socket closed while `accept` waits on it
        stays open until that call returns, so the serving thread is woken and waited for."""
        import socket

        self._stopping.set()
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._server.join(timeout=1.0)
        self._socket.close()
