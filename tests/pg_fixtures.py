"""Pytest plugin: a real PostgreSQL server per xdist worker, and tests that run on both backends.

- `pg_cluster` (session): started the first time a test asks for it, stopped at the end of the
  session whatever the outcome, so a run that needs no PostgreSQL pays nothing.
- `pg_url`: a fresh, empty database on that server, as a `postgresql+asyncpg://` URL string.
- A module with `pytestmark = pytest.mark.both_backends` runs each test that uses `db_path`
  twice: `[sqlite]` with a file path, `[postgres]` with the URL of a fresh database (that
  variant carries the `postgres` marker, so `pytest -m postgres` selects it). A test about the
  SQLite file itself is marked `sqlite_only` and runs once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pg_cluster import PostgresCluster

BACKENDS = "db_backend"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    node = metafunc.definition
    if (
        BACKENDS in metafunc.fixturenames
        and node.get_closest_marker("both_backends") is not None
        and node.get_closest_marker("sqlite_only") is None
    ):
        metafunc.parametrize(
            BACKENDS,
            [
                pytest.param("sqlite", id="sqlite"),
                pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
            ],
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that asks for the server by fixture is a PostgreSQL test too."""
    for item in items:
        if {"pg_url", "pg_cluster"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(
    pg_cluster: PostgresCluster,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    # A server database's key files go to the node's data folder (WEBOPS_KEYS): here, the
    # test's own, so no test writes into the user's data folder.
    monkeypatch.setenv("WEBOPS_KEYS", str(tmp_path_factory.mktemp("keys")))
    return pg_cluster.create_database(pg_cluster.new_name(request.node.name))


@pytest.fixture
def db_backend() -> str:
    """Which backend `db_path` points at; parametrized in `both_backends` modules."""
    return "sqlite"
