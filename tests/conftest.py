"""Shared fixtures: every test gets its own real SQLite file and runs the real CLI entry point."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.service import ControlledService
from webops_tui.cli import main

# A real PostgreSQL server per xdist worker, and the both-backends runs (see that module).
pytest_plugins = ["tests.pg_fixtures"]

# Property tests judge bounds, not speed (speed is `make bench`'s): no per-example deadline,
# which a loaded CI machine would turn into failures that say nothing about the code.
settings.register_profile("webops", deadline=None)
settings.load_profile("webops")


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


CliRunner = Callable[..., CliResult]


@pytest.fixture
def db_path(tmp_path: Path, db_backend: str, request: pytest.FixtureRequest) -> Path | str:
    """A SQLite file; in a `both_backends` module's `[postgres]` run, a fresh database URL."""
    if db_backend == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return url
    return tmp_path / "webops.db"


@pytest.fixture
def cli(db_path: Path | str, capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run `webops --db <db_path> ARGS...` in-process through `main`, as the console script does."""

    def run(*args: str, db: Path | str | None = None) -> CliResult:
        capsys.readouterr()
        code = main(["--db", str(db or db_path), *args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


class FakeClock:
    """A clock that moves only when told, for decay and rate limits without sleeping."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service() -> Iterator[ControlledService]:
    """A service on 127.0.0.1 whose health a runbook can fix (see `define_shop`)."""
    with ControlledService() as running:
        yield running
