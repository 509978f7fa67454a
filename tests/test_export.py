"""`webops export incidents [--anonymize]`: incidents from the real loop (a service on
127.0.0.1 that fails, a person who approves the fix) exported whole; anonymized, no host, IP,
e-mail address, token or user name is left, and each becomes the same pseudonym everywhere."""

from __future__ import annotations

import asyncio
import getpass
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.clock import VirtualClock
from agent.core.autopilot import Autopilot
from agent.core.kernel import Kernel
from agent.social.anonymize import Anonymizer
from tests.conftest import CliRunner
from tests.service import ControlledService, define_shop

pytestmark = pytest.mark.both_backends

APPROVER = "alice@corp.example"


@pytest.fixture
def handled(db_path: Path) -> Path:
    """One incident on the shop: ben asks, alice approves, the fix works."""

    async def world() -> None:
        with ControlledService(healthy=False) as service:
            clock = VirtualClock()
            async with await Kernel.open(db_path, clock=clock.time) as kernel:
                await kernel.create_agent("ben", "bold")
                await define_shop(kernel, service)
                first = Autopilot(kernel, approval_policy="human", clock=clock)
                await first.run(asyncio.Event(), duration_s=5.0)
                (waiting,) = first.open.values()
                assert waiting.approval_id is not None
                await kernel.approve(waiting.approval_id, by=APPROVER)
                second = Autopilot(kernel, approval_policy="human", clock=clock)
                await second.run(asyncio.Event(), duration_s=5.0)

    asyncio.run(world())
    return db_path


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _shape(value: object) -> object:
    """The document without its strings: keys, numbers, booleans and nulls."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return "" if isinstance(value, str) else value


def test_export_anonymized_hides_addresses_and_people_and_keeps_the_story(
    cli: CliRunner, handled: Path
) -> None:
    plain = cli("export", "incidents")
    assert plain.code == 0, plain.err
    (incident,) = plain.json()
    assert incident["address"].startswith("http://127.0.0.1:")
    assert APPROVER in plain.out

    hidden = cli("export", "incidents", "--anonymize")
    assert hidden.code == 0, hidden.err
    (anonymous,) = hidden.json()
    text = hidden.out
    assert "127.0.0.1" not in text and APPROVER not in text and "corp.example" not in text
    assert re.fullmatch(r"http://ip-1:\d+/health", anonymous["address"])
    actors = {step["actor"] for step in anonymous["timeline"]}
    assert "ben" in actors and "email-1" in actors  # the agent is kept, the person is not
    assert "email-1 approved it" in anonymous["credits"][0]["why"]
    assert _shape(anonymous) == _shape(incident)
    assert anonymous["target"] == "shop" and anonymous["status"] == "resolved"
    user = getpass.getuser()
    assert not any(
        re.search(rf"(?<![\w-]){re.escape(user)}(?![\w-])", s) for s in _strings(anonymous)
    )
    # Same input, same pseudonyms: a second export is identical.
    assert cli("export", "incidents", "--anonymize").out == text


def test_export_refuses_a_bad_limit_in_one_line(cli: CliRunner, handled: Path) -> None:
    refused = cli("export", "incidents", "--limit", "0")
    assert refused.code == 2 and refused.err.count("\n") == 1


hosts = st.from_regex(r"[a-z]{1,8}\.(example|corp|internal|com)", fullmatch=True)
ips = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
emails = st.from_regex(r"[a-z]{1,6}@[a-z]{1,6}\.(com|de)", fullmatch=True)


@given(host=hosts, ip=ips, email=emails, filler=st.text(alphabet="abc ,;()", max_size=20))
def test_pseudonyms_are_stable_and_nothing_identifying_survives(
    host: str, ip: str, email: str, filler: str
) -> None:
    line = f"GET https://{host}/x from {ip} {filler} by {email}; again {host} {ip} {email}"
    anonymizer = Anonymizer()
    once = anonymizer.text(line)
    assert host not in once and email not in once
    assert not re.search(rf"(?<![\d.]){re.escape(ip)}(?![\d.])", once)
    assert anonymizer.text(line) == once  # stable within one export
    names = re.findall(r"\b(?:host|ip|email)-\d+\b", once)
    assert len(names) == 6 and names[:3] == names[3:]
    assert json.loads(json.dumps(anonymizer.documents([{"text": line}])))[0]["text"] == once
