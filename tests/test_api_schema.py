"""schemathesis against `/openapi.json` of a real `webops serve`: requests generated from the
schema, with an admin token, answer no 500 and only status codes the schema documents. A few
examples per route here; `make fuzz` runs many (WEBOPS_FUZZ_EXAMPLES)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from agent.core.kernel import Kernel
from tests.serve_process import ServeProcess
from tests.service import ControlledService, define_shop

EXAMPLES = int(os.environ.get("WEBOPS_FUZZ_EXAMPLES", "4"))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, str]]:
    db = tmp_path_factory.mktemp("schema") / "webops.db"

    async def setup(service: ControlledService) -> str:
        async with await Kernel.open(db) as kernel:
            await define_shop(kernel, service)
            await kernel.create_agent("ben", "bold")
            return (await kernel.create_token("fuzz", "admin", by="test")).token

    with ControlledService() as service:
        token = asyncio.run(setup(service))
        server = ServeProcess(Path(db))
        try:
            yield server, token
        finally:
            server.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def api_schema(live: tuple[ServeProcess, str]) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{live[0].url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


# The event stream waits for events (up to its `timeout`): its own tests cover it.
@schema.exclude(path="/api/events").parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
def test_no_route_answers_500_or_an_undocumented_status(
    case: schemathesis.Case, live: tuple[ServeProcess, str]
) -> None:
    server, token = live
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[not_a_server_error, status_code_conformance],
        timeout=30,
    )
    assert "Traceback" not in server.tail(50)
