"""Where the database is: one SQLite file (the default) or a PostgreSQL server that a fleet of
workers shares (issue 21).

`--db` and `WEBOPS_DB` take either; a value with `://` is a server URL. Parsing a URL imports
SQLAlchemy's URL type only then, so a command on a file starts as fast as before.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from storage.errors import InvalidInput

#: The driver every PostgreSQL URL is run with (the `postgres` extra installs it).
POSTGRES_DRIVER = "postgresql+asyncpg"
_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")


@dataclass(frozen=True)
class ServerDatabase:
    """A database on a PostgreSQL server, as a SQLAlchemy URL with the asyncpg driver."""

    url: str

    @property
    def shown(self) -> str:
        """The URL without its password: what titles, logs and errors may show."""
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def name(self) -> str:
        """The database's name (the workbench's title shows it as it shows a file's name)."""
        from sqlalchemy.engine import make_url

        return make_url(self.url).database or "postgres"

    def keys_beside(self, folder: Path) -> Path:
        """Where this server's keys (secrets, audit chain) live on this node: a server has no
        folder of its own, so they go in `folder` under a name made from host, port and
        database. Every node of a fleet needs the same key files (README, "Running a fleet")."""
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        where = f"{url.host or 'local'}:{url.port or 5432}/{url.database}"
        digest = hashlib.sha256(where.encode()).hexdigest()[:12]
        return folder / f"{url.database}-{digest}.server"


Location = Path | ServerDatabase


def locate(value: str | Path | ServerDatabase) -> Location:
    """A file path, or a server for a `postgresql://` URL; another scheme is refused in one
    line (it would otherwise become a file named like a URL)."""
    if isinstance(value, ServerDatabase):
        return value
    if isinstance(value, Path) or "://" not in value:
        return Path(value).expanduser()
    scheme = value.split("://", 1)[0].lower()
    if scheme not in _POSTGRES_SCHEMES:
        raise InvalidInput(
            f"unsupported database URL {scheme}://...: give a SQLite file path or "
            "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
        )
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError) as exc:
        raise InvalidInput(f"malformed PostgreSQL URL: {exc}") from None
    if not url.database:
        raise InvalidInput(
            "the PostgreSQL URL names no database: postgresql://USER@HOST[:PORT]/DATABASE"
        )
    url = url.set(drivername=POSTGRES_DRIVER)
    return ServerDatabase(url.render_as_string(hide_password=False))


def shown(location: Location) -> str:
    """How a location is named to people: the file's path, or the URL without its password."""
    return str(location) if isinstance(location, Path) else location.shown


def short_name(location: Location) -> str:
    """The file's name or the server database's name (the workbench title)."""
    return location.name
