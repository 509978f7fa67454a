"""One real PostgreSQL cluster for a test session, started from binaries the project installs.

The binaries come from the `pgserver` wheel (PostgreSQL 16, a `dev` extra), so a fresh CI
machine that ran only `make test` has them; Debian's server binaries are a fallback for a
checkout without that wheel. The server listens on 127.0.0.1 over TCP (the fleet spans
machines, so the tests use what a second machine would) with durability turned off: a test
database is thrown away, so fsync and full-page writes only cost time.

PostgreSQL refuses to run as root, and CI runs as root: then the cluster runs as an
unprivileged user (created when missing) that owns the data folder.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import importlib.util
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

SUPERUSER = "webops"
SERVICE_USER = "webops-pg"
_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# Settings for throw-away test data: nothing needs to survive a crash of the machine.
_TEST_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "'32MB'",
    "max_connections": "200",
    "log_min_messages": "warning",
}


class ClusterError(RuntimeError):
    """The server could not be set up or started; the message carries its log."""


def find_bin_dir() -> Path:
    """The folder holding initdb, pg_ctl and postgres: pgserver's wheel, else Debian's newest."""
    override = os.environ.get("WEBOPS_PG_BIN")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.submodule_search_locations:
        # pgserver._commands.POSTGRES_BIN_PATH, found without importing the package (its
        # import starts platformdirs look-ups that warn on a machine without XDG folders).
        bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
        if (bin_dir / "pg_ctl").exists():
            return bin_dir
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name)
    )
    if debian:
        return debian[-1].parent
    raise ClusterError(
        "no PostgreSQL server binaries: install the dev extra (pip install -e '.[dev]', which "
        "brings pgserver) or set WEBOPS_PG_BIN to a folder holding pg_ctl"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _service_user() -> str:
    """An unprivileged user to run the server as root; created on first use."""
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        made = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
             SERVICE_USER],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        try:  # another xdist worker may have created it at the same moment
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            raise ClusterError(f"could not create user {SERVICE_USER}: {made.stderr}") from None
    return SERVICE_USER


def _make_traversable(path: Path) -> None:
    """Let other users pass through every folder above `path` (as pgserver does for itself)."""
    reach = stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH
    for folder in path.resolve().parents:
        mode = folder.stat().st_mode
        if mode & (stat.S_IXOTH) == 0:
            folder.chmod(mode | reach)


def _open_install_to_others(bin_dir: Path) -> None:
    """Under a strict umask pip leaves the wheel's files private to root: open them read-only."""
    if (bin_dir / "postgres").stat().st_mode & stat.S_IXOTH:
        return
    # pgserver's binaries load their libraries from the wheel's `pgserver.libs` beside the package.
    roots = [bin_dir.parent, bin_dir.parent.parent.parent / "pgserver.libs"]
    for path in [p for root in roots if root.exists() for p in (root, *root.rglob("*"))]:
        mode = path.stat().st_mode
        run = stat.S_IXGRP | stat.S_IXOTH if path.is_dir() or mode & stat.S_IXUSR else 0
        path.chmod(mode | stat.S_IRGRP | stat.S_IROTH | run)


def _run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run `coro` on a loop of its own thread: callers may be inside a running loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class PostgresCluster:
    """initdb + pg_ctl for one session; `create_database` hands out fresh databases by URL."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        self.port = 0
        self.base = Path(tempfile.mkdtemp(prefix="webops-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.user = _service_user() if os.geteuid() == 0 else None
        self._running = False
        self._count = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> PostgresCluster:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self

    def _start(self) -> None:
        if self.user is not None:
            _make_traversable(self.bin_dir)
            _open_install_to_others(self.bin_dir)
            _make_traversable(self.base)
            shutil.chown(self.base, self.user, self.user)
        self._pg("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                 "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")  # fmt: skip
        for attempt in range(5):  # a free port can be taken between the ask and the listen
            self.port = free_port()
            self._write_settings()
            started = self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log), check=False)
            if started.returncode == 0:
                break
            if "could not bind" not in self._log_text() or attempt == 4:
                raise ClusterError(self._failure("pg_ctl start", started))
        self._running = True

    def restart(self) -> None:
        """Stop fast (open sessions are cut) and start again on the same port and data."""
        done = self._pg_ctl("restart", "-m", "fast", "-w", "-t", "60", "-l", str(self.log),
                            check=False)  # fmt: skip
        if done.returncode != 0:
            raise ClusterError(self._failure("pg_ctl restart", done))

    def stop(self) -> None:
        """Stop the server and delete its data; safe to call twice."""
        if self._running or (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "60", check=False)
            self._running = False
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases -------------------------------------------------------------------------

    def url(self, name: str) -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def new_name(self, hint: str = "test") -> str:
        """A database name unique in this cluster, readable in the server's log."""
        self._count += 1
        stem = re.sub(r"[^a-z0-9_]+", "_", hint.lower()).strip("_")[:40] or "test"
        return f"{stem}_{self._count}"

    def create_database(self, name: str) -> str:
        """CREATE DATABASE `name` (from template1) and return its SQLAlchemy asyncpg URL."""
        if not _DATABASE_NAME.fullmatch(name):
            raise ValueError(f"not a plain database name: {name!r}")
        _run_async(self._execute(f'CREATE DATABASE "{name}"'))
        return self.url(name)

    def execute(self, sql: str, database: str = "postgres") -> None:
        """Run one statement as the superuser (for tests that change the server itself)."""
        _run_async(self._execute(sql, database))

    async def _execute(self, sql: str, database: str = "postgres") -> None:
        import asyncpg

        conn = await asyncpg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, database=database, timeout=30
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    # -- processes -------------------------------------------------------------------------

    def _write_settings(self) -> None:
        settings = {**_TEST_SETTINGS, "port": str(self.port)}
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        (self.data / "postgresql.auto.conf").write_text(lines)

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._pg("pg_ctl", "-D", str(self.data), *args, check=check)

    def _pg(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / program), *args]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                cwd=self.base,
                env={**os.environ, "HOME": str(self.base), "LC_ALL": "C"},
                user=self.user,
                stdin=subprocess.DEVNULL,
                check=False,
                timeout=120,
            )
        except OSError as exc:
            raise ClusterError(f"cannot run {command[0]}: {exc}") from exc
        if check and done.returncode != 0:
            raise ClusterError(self._failure(program, done))
        return done

    def _log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def _failure(self, what: str, done: subprocess.CompletedProcess[str]) -> str:
        log = self._log_text()[-4000:] or "(no server log)"
        return (
            f"PostgreSQL {what} failed (exit {done.returncode}, binaries {self.bin_dir}, "
            f"data {self.data}, user {self.user or os.getuid()}):\n{done.stdout}{done.stderr}\n"
            f"--- server log ---\n{log}"
        )
