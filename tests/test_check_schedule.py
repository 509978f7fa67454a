"""Many targets in one process: checks spread over their interval without drift, a healthy farm
opens no incident, lateness is shown, and `target import` keeps every target it is given."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.clock import VirtualClock
from agent.core.autopilot import Autopilot
from agent.core.kernel import Kernel
from agent.events import KernelEvent, TargetChecked
from tests.benchmarks.target_farm import TargetFarm
from tests.conftest import CliRunner
from tests.service import ControlledService

pytestmark = pytest.mark.both_backends


def _document(urls: list[str], interval_s: float) -> str:
    return "".join(
        f'[[target]]\nname = "t{i:04d}"\nkind = "http"\naddress = "{url}"\n'
        f"interval_s = {interval_s:g}\n\n"
        for i, url in enumerate(urls)
    )


@pytest.mark.sqlite_only  # long; its storage paths run on PostgreSQL in shorter tests
def test_first_checks_are_spread_over_the_interval_and_do_not_drift(
    db_path: Path, cli: CliRunner, tmp_path: Path
) -> None:
    """Run in virtual time: 100 targets at 30 s have their first checks within a second (at
    FIRST_CHECKS_PER_S, as a person starting the run wants: a site is checked now), then every
    30 s, no drift; 100 targets at 0.5 s, more than that rate can start in one interval, are
    spread over it, not fired as one burst."""
    clock = VirtualClock()
    checks: dict[str, list[float]] = {}

    async def watch(duration_s: float) -> None:
        checks.clear()
        async with await Kernel.open(db_path, clock=clock.time) as kernel:
            start = clock.time()

            def follow(event: KernelEvent) -> None:
                if isinstance(event, TargetChecked):
                    checks.setdefault(event.target, []).append(event.ts - start)

            kernel.bus.subscribe(follow)
            await Autopilot(kernel, clock=clock).run(asyncio.Event(), duration_s=duration_s)

    with ControlledService() as service:
        document = tmp_path / "targets.toml"
        document.write_text(_document([f"{service.url}/health"] * 100, 30.0))
        assert cli("target", "import", str(document)).code == 0
        assert cli("agent", "create", "anna").code == 0
        asyncio.run(watch(65.0))
        assert len(checks) == 100
        firsts = sorted(times[0] for times in checks.values())
        assert firsts[-1] <= 1.5, firsts
        for name, times in checks.items():
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert len(gaps) >= 1, (name, times)
            assert all(abs(gap - 30.0) < 0.2 for gap in gaps), (name, times)

        document.write_text(_document([f"{service.url}/health"] * 100, 0.5))
        assert cli("target", "import", str(document)).code == 0
        asyncio.run(watch(2.0))
    firsts = sorted(times[0] for times in checks.values())
    assert len(firsts) == 100 and firsts[-1] > 0.4, firsts
    assert max(Counter(int(t * 10) for t in firsts).values()) <= 35, firsts  # not one burst


def test_a_healthy_farm_opens_no_incident_and_run_says_how_late_checks_started(
    cli: CliRunner, tmp_path: Path
) -> None:
    with TargetFarm() as farm:
        urls = farm.start(300)
        document = tmp_path / "farm.toml"
        document.write_text(_document(urls, 2.0))
        assert cli("target", "import", str(document)).code == 0
        assert cli("agent", "create", "anna").code == 0
        result = cli("run", "--duration", "7", "--approve", "none", "--json")
        arrivals = farm.stop()
    assert result.code == 0, result.err
    summary = result.json()
    assert summary["incidents"] == 0, result.err
    assert summary["checks"] >= 300
    late = summary["lateness"]
    assert late["checks"] >= 300 and late["p50_s"] is not None
    assert 0 <= late["p50_s"] <= late["p95_s"] <= late["max_s"]
    assert "checks started late by" in result.err
    # Every target was asked by the checks, the farm saw it.
    assert len(arrivals) == 300


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(
        st.text("abcdefghij0123456789-", min_size=1, max_size=12).filter(lambda n: n[0].isalpha()),
        min_size=1,
        max_size=120,
        unique=True,
    ),
    again=st.integers(min_value=0, max_value=119),
)
def test_target_import_stores_every_target_once(
    cli: CliRunner, tmp_path: Path, names: list[str], again: int
) -> None:
    db = tmp_path / f"import-{len(names)}-{again}.db"
    db.unlink(missing_ok=True)
    document = tmp_path / "many.toml"
    document.write_text(
        "".join(
            f'[[target]]\nname = "{n}"\nkind = "http"\naddress = "http://127.0.0.1:9/{n}"\n\n'
            for n in names
        )
    )
    assert cli("target", "import", str(document), db=db).code == 0
    # Imported again with some of them changed: replaced by name, none lost or doubled.
    changed = names[: again % len(names) + 1]
    document.write_text(
        "".join(
            f'[[target]]\nname = "{n}"\nkind = "http"\naddress = "http://127.0.0.1:9/{n}"\n'
            "interval_s = 45\n\n"
            for n in changed
        )
    )
    assert cli("target", "import", str(document), db=db).code == 0
    listed = cli("target", "list", "--json", db=db)
    stored = {t["name"]: t for t in json.loads(listed.out)}
    assert sorted(stored) == sorted(names)
    assert {n for n, t in stored.items() if t["interval_s"] == 45} == set(changed)


def test_an_import_with_a_name_twice_stores_nothing(cli: CliRunner, tmp_path: Path) -> None:
    document = tmp_path / "twice.toml"
    document.write_text(
        _document(["http://127.0.0.1:9/a"] * 3, 30.0) + _document(["http://127.0.0.1:9/b"], 30.0)
    )
    result = cli("target", "import", str(document))
    assert result.code == 2 and "defined twice" in result.err
    assert cli("target", "list", "--json").json() == []
