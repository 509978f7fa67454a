"""The check skills against real servers on 127.0.0.1 (and the resolver, for localhost and a
reserved `.invalid` name only)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.ops.checks import (
    BODY_LIMIT,
    KINDS,
    MISSING,
    CheckResult,
    dns_check,
    http_check,
    run_check,
    tcp_check,
    tls_check,
)
from agent.ops.conditions import parse_all
from tests.servers import HttpServer, Response, TlsServer, closed_port, make_cert

HEALTHY_JSON = json.dumps({"status": "UP", "checks": [{"name": "db", "ok": True}]})


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer(Response(body=HEALTHY_JSON, content_type="application/json")) as running:
        yield running


def failed(result: CheckResult) -> list[str]:
    return [c.condition for c in result.conditions if not c.ok]


async def test_http_check_passes(server: HttpServer) -> None:
    conditions = parse_all(
        [
            "status == 200",
            'body contains "UP"',
            'json.status == "UP"',
            "json.checks.0.ok == true",
            "latency_ms < 2000",
        ]
    )
    result = await http_check(server.url, conditions, timeout_s=2.0)
    assert result.healthy, result
    assert (result.kind, result.target, result.error) == ("http", server.url, None)
    assert result.fields["status"] == 200
    assert result.fields["json"]["status"] == "UP"
    assert result.latency_ms is not None and result.latency_ms > 0
    assert [c.ok for c in result.conditions] == [True] * 5
    assert result.conditions[0].actual == "200"
    assert result.checked_at > 0
    assert json.loads(result.model_dump_json())["healthy"] is True


async def test_http_default_condition_is_status_below_400(server: HttpServer) -> None:
    assert (await http_check(server.url, [], timeout_s=2.0)).healthy
    server.respond(status=404, body="gone")
    result = await http_check(server.url, [], timeout_s=2.0)
    assert not result.healthy
    assert result.error is None
    assert failed(result) == ["status < 400"]


async def test_http_check_fails_on_503(server: HttpServer) -> None:
    server.respond(status=503, body="down")
    result = await http_check(server.url, parse_all(["status == 200"]), timeout_s=2.0)
    assert not result.healthy
    assert result.error is None
    assert result.conditions[0].actual == "503"
    assert "json" not in result.fields


async def test_http_check_fails_on_body_mismatch(server: HttpServer) -> None:
    server.respond(body=json.dumps({"status": "DOWN"}))
    conditions = parse_all(['body contains "UP"', 'json.status == "UP"', "status == 200"])
    result = await http_check(server.url, conditions, timeout_s=2.0)
    assert not result.healthy
    assert failed(result) == ['body contains "UP"', 'json.status == "UP"']
    assert result.conditions[1].actual == '"DOWN"'


async def test_http_check_times_out(server: HttpServer) -> None:
    server.respond(delay_s=3.0)
    result = await http_check(server.url, [], timeout_s=0.3)
    assert not result.healthy
    assert result.error == "timed out after 0.3 s"
    assert result.latency_ms is None


async def test_http_body_is_truncated(server: HttpServer) -> None:
    server.respond(body="x" * (BODY_LIMIT * 2))
    result = await http_check(server.url, [], timeout_s=2.0)
    assert result.healthy
    assert len(result.fields["body"]) == BODY_LIMIT


async def test_http_check_reuses_a_given_client(server: HttpServer) -> None:
    server.respond(path="/health", body="fine")
    async with httpx.AsyncClient() as client:
        first = await http_check(server.url + "health", [], client=client)
        second = await http_check(server.url + "health", [], client=client)
        assert not client.is_closed
    assert first.fields["body"] == second.fields["body"] == "fine"
    assert server.requests == ["/health", "/health"]


async def test_nothing_listening_is_connection_refused() -> None:
    port = closed_port()
    http = await http_check(f"http://127.0.0.1:{port}/", [], timeout_s=2.0)
    tcp = await tcp_check(f"127.0.0.1:{port}", [], timeout_s=2.0)
    for result in (http, tcp):
        assert not result.healthy
        assert result.error == "connection refused"
        assert result.latency_ms is None
    assert tcp.fields["connected"] is False
    assert failed(tcp) == ["connected == true"]


async def test_http_bad_url_is_a_result_not_an_exception() -> None:
    result = await http_check("not a url", [], timeout_s=1.0)
    assert not result.healthy
    assert result.error and "\n" not in result.error


async def test_tcp_check_passes_against_a_listening_port(server: HttpServer) -> None:
    result = await tcp_check(server.address, parse_all(["latency_ms < 2000"]), timeout_s=2.0)
    assert result.healthy, result
    assert result.fields["connected"] is True
    assert result.latency_ms is not None and result.latency_ms > 0


@pytest.mark.parametrize("address", ["localhost", "127.0.0.1:", ":80", "host:99999", "h:x"])
async def test_tcp_bad_address_is_reported(address: str) -> None:
    result = await tcp_check(address, [], timeout_s=1.0)
    assert not result.healthy
    assert result.error is not None and "invalid" in result.error


async def test_dns_resolves_localhost() -> None:
    result = await dns_check("localhost", parse_all(['addresses contains "127.0.0.1"']), 2.0)
    assert result.healthy, result
    assert result.fields["resolved"] is True
    assert "127.0.0.1" in result.fields["addresses"]
    assert result.latency_ms is not None and result.latency_ms > 0


async def test_dns_of_an_ip_literal() -> None:
    result = await dns_check("127.0.0.1", [], timeout_s=2.0)
    assert result.healthy
    assert result.fields["addresses"] == ["127.0.0.1"]


async def test_dns_fails_for_a_reserved_invalid_name() -> None:
    result = await dns_check("nothing.invalid", [], timeout_s=2.0)
    assert not result.healthy
    assert result.error == "name not resolved"
    assert result.fields == {"resolved": False, "addresses": []}
    assert failed(result) == ["resolved == true"]
    assert result.conditions[0].actual == "false"


async def test_a_missing_field_reads_as_missing(server: HttpServer) -> None:
    server.respond(body="plain text")
    result = await http_check(server.url, parse_all(['json.status == "UP"']), timeout_s=2.0)
    assert not result.healthy
    assert result.conditions[0].actual == MISSING == "(missing)"
    assert "no JSON body" in result.conditions[0].detail


async def test_tls_cert_valid_for_60_days_passes(tmp_path: Path) -> None:
    with TlsServer(*make_cert(tmp_path, 60)) as tls:
        result = await tls_check(tls.address, [], timeout_s=2.0)
    assert result.healthy, result
    assert 59 < result.fields["cert_days"] <= 60
    assert result.fields["cert_subject"] == "CN=localhost"
    assert result.fields["cert_issuer"] == "CN=localhost"
    assert result.latency_ms is not None and result.latency_ms > 0
    assert failed(result) == []


async def test_tls_cert_expiring_in_3_days_fails(tmp_path: Path) -> None:
    with TlsServer(*make_cert(tmp_path, 3, common_name="soon.test")) as tls:
        result = await tls_check(tls.address, parse_all(["cert_days > 14"]), timeout_s=2.0)
    assert not result.healthy
    assert result.error is None
    assert 2 < result.fields["cert_days"] < 3
    assert result.fields["cert_subject"] == "CN=soon.test"
    assert failed(result) == ["cert_days > 14"]


async def test_tls_expired_cert_is_measured_negative(tmp_path: Path) -> None:
    with TlsServer(*make_cert(tmp_path, -2)) as tls:
        result = await tls_check(tls.address, [], timeout_s=2.0)
    assert result.error is None
    assert -2.1 < result.fields["cert_days"] < -1.9


async def test_tls_against_plain_http_and_nothing(server: HttpServer) -> None:
    plain = await tls_check(server.address, [], timeout_s=1.0)
    assert not plain.healthy and plain.error
    refused = await tls_check(f"127.0.0.1:{closed_port()}", [], timeout_s=1.0)
    assert refused.error == "connection refused"


async def test_run_check_dispatches(server: HttpServer) -> None:
    assert KINDS == ("http", "tcp", "dns", "tls")
    assert (await run_check("http", server.url, [], 2.0)).kind == "http"
    assert (await run_check("tcp", server.address, [], 2.0)).healthy
    assert (await run_check("dns", "localhost", [], 2.0)).kind == "dns"
    with pytest.raises(ValueError, match="http, tcp, dns, tls"):
        await run_check("icmp", "127.0.0.1", [], 1.0)
