"""Issue 22: the optional language model (`[llm]`), against a real HTTP server on 127.0.0.1
that speaks the chat-completions API with scripted answers (tests/chat_model_server.py).

Reached as a user reaches it: `webops --config CFG chat AGENT "..." --json`, the kernel's
`chat()` (what the workbench and the REST API call), and `webops incident report`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.core.conversation import chat
from agent.core.kernel import Kernel, KernelConfig
from agent.core.language_model import RETRY_S
from agent.ops.targets import target_spec
from agent.social.language.model_config import LanguageModelSettings
from tests.chat_model_server import ChatModelServer, Scripted
from tests.conftest import CliRunner, FakeClock
from tests.servers import closed_port
from tests.service import SECRET, ControlledService, define_shop
from tests.test_cli_lazy import _modules_after

#: A password in a target's address: it must never reach the model either.
ADDRESS_PASSWORD = "pa55-w0rd-in-url"
UNUSUAL = "could you kindly give the storefront a once-over"


@pytest.fixture
def model() -> Iterator[ChatModelServer]:
    with ChatModelServer() as server:
        yield server


def settings(base_url: str, timeout_s: float = 5.0) -> LanguageModelSettings:
    return LanguageModelSettings(base_url=base_url, model="scripted-model", timeout_s=timeout_s)


def write_config(tmp_path: Path, base_url: str, timeout_s: float = 5.0) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[llm]\nbase_url = "{base_url}"\nmodel = "scripted-model"\ntimeout_s = {timeout_s}\n',
        encoding="utf-8",
    )
    return path


async def _world(kernel: Kernel, service: ControlledService) -> None:
    """Agent anna, target `shop` and its high-risk runbook `fix-shop` (holding SECRET), and a
    target whose address carries a password."""
    await kernel.create_agent("anna", "friendly")
    await define_shop(kernel, service)
    await kernel.ops.add_target(
        target_spec(
            name="admin",
            kind="http",
            address=f"http://ops:{ADDRESS_PASSWORD}@{service.url.removeprefix('http://')}/health",
        )
    )


def make_world(db_path: Path | str, service: ControlledService) -> None:
    async def run() -> None:
        async with await Kernel.open(db_path) as kernel:
            await _world(kernel, service)

    asyncio.run(run())


def assert_nothing_secret(model: ChatModelServer) -> None:
    sent = model.sent()
    assert SECRET not in sent and ADDRESS_PASSWORD not in sent
    assert "127.0.0.1" not in sent  # addresses are hidden as the anonymiser hides them


# --- understanding -----------------------------------------------------------------------------


def test_without_llm_the_rules_answer_and_nothing_model_is_loaded(
    cli: CliRunner, db_path: Path, service: ControlledService, tmp_path: Path
) -> None:
    make_world(db_path, service)
    reply = cli("chat", "anna", "check shop", "--json")
    assert reply.code == 0, reply.err
    doc = reply.json()
    assert doc["intent"] == "check" and doc["source"] == "rules" and doc["cites"] == []
    unclear = cli("chat", "anna", UNUSUAL, "--json").json()
    assert unclear["intent"] == "unclear" and unclear["source"] == "rules"
    loaded = _modules_after("--db", str(db_path), "chat", "anna", UNUSUAL, "--json")
    assert "agent.social.language.model_client" not in loaded
    assert "agent.core.language_model" not in loaded


def test_an_unusual_phrasing_the_rules_miss_is_understood_by_the_model(
    cli: CliRunner,
    db_path: Path,
    service: ControlledService,
    model: ChatModelServer,
    tmp_path: Path,
) -> None:
    make_world(db_path, service)
    config = write_config(tmp_path, model.base_url)
    model.script(Scripted({"intent": "check", "entities": {"target": "shop"}}))
    hits = service.hits
    result = cli("--config", str(config), "chat", "anna", UNUSUAL, "--json")
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["source"] == "llm" and doc["intent"] == "check"
    assert doc["entities"] == {"target": "shop"} and "shop" in doc["reply"]
    assert service.hits == hits + 1  # a real check ran
    # What the model was sent: the agent's voice, the message, the names; nothing secret.
    (body,) = model.bodies
    assert model.paths == ["/v1/chat/completions"]
    assert body["model"] == "scripted-model" and body["response_format"]["type"] == "json_object"
    system = body["messages"][0]["content"]
    assert "You are anna" in system and "agreeableness" in system and "mood" in system
    user = body["messages"][1]["content"]
    assert UNUSUAL in user and "fix-shop" in user and '"shop"' in user
    assert_nothing_secret(model)
    # A phrasing the rules are sure of never asks the model.
    assert (
        cli("--config", str(config), "chat", "anna", "check shop", "--json").json()["source"]
        == "rules"
    )
    assert len(model.bodies) == 1


def test_a_runbook_the_model_names_that_does_not_exist_is_refused(
    cli: CliRunner,
    db_path: Path,
    service: ControlledService,
    model: ChatModelServer,
    tmp_path: Path,
) -> None:
    make_world(db_path, service)
    config = write_config(tmp_path, model.base_url)
    model.script(Scripted({"intent": "run_runbook", "entities": {"runbook": "drop-database"}}))
    doc = cli(
        "--config", str(config), "chat", "anna", "be a dear and wipe the lot", "--json"
    ).json()
    assert doc["intent"] == "run_runbook" and "runbook" not in doc["entities"]
    assert "I don't know a runbook called drop-database" in doc["reply"]
    assert "fix-shop" in doc["reply"]  # what it does know
    assert cli("approvals", "--json").json() == [] and service.fixes == 0


def test_a_risky_runbook_the_model_understood_waits_for_approval(
    cli: CliRunner,
    db_path: Path,
    service: ControlledService,
    model: ChatModelServer,
    tmp_path: Path,
) -> None:
    make_world(db_path, service)
    config = write_config(tmp_path, model.base_url)
    model.script(
        Scripted({"intent": "run_runbook", "entities": {"runbook": "fix-shop", "target": "shop"}})
    )
    service.healthy = False
    doc = cli(
        "--config",
        str(config),
        "chat",
        "anna",
        "the storefront needs some tlc, do your thing",
        "--json",
    ).json()
    assert doc["source"] == "llm" and doc["intent"] == "run_runbook"
    pending = cli("approvals", "--json").json()
    assert [p["action"] for p in pending] == ["fix-shop"]
    assert str(pending[0]["id"]) in doc["reply"]
    assert service.fixes == 0  # the same gate as a typed command: nothing ran


@pytest.mark.parametrize(
    "answer",
    [
        Scripted("{'intent': check"),  # malformed JSON
        Scripted({"intent": "reboot_everything"}),  # an intent that does not exist
        Scripted(None, refusal="I can't help with that."),
        Scripted(
            {"intent": "check", "entities": {"target": "shop"}}, finish_reason="content_filter"
        ),
        Scripted({"intent": "check", "entities": {"target": "warehouse"}}),  # unknown target
        Scripted({"intent": "check", "entities": {"url": "http://elsewhere.example/"}}),
        Scripted({"intent": "approve", "entities": {"approval_id": 1}}),
    ],
    ids=["malformed", "unknown-intent", "refusal", "filtered", "target", "url", "approval"],
)
async def test_anything_invalid_from_the_model_is_not_understood(
    db_path: Path, service: ControlledService, model: ChatModelServer, answer: Scripted
) -> None:
    config = KernelConfig(llm=settings(model.base_url))
    async with await Kernel.open(db_path, config=config) as kernel:
        await _world(kernel, service)
        hits = service.hits
        model.script(answer)
        reply = await chat(kernel, "anna", UNUSUAL)
        assert reply.intent == "unclear" and reply.source == "rules"
        assert "didn't understand" in reply.reply and reply.notice is None
        assert service.hits == hits and await kernel.pending_approval_ids() == []
        assert len(model.bodies) == 1


# --- a model that is down, slow or broken ------------------------------------------------------


def test_a_down_endpoint_falls_back_within_the_timeout_and_says_so(
    cli: CliRunner, db_path: Path, service: ControlledService, tmp_path: Path
) -> None:
    make_world(db_path, service)
    url = f"http://127.0.0.1:{closed_port()}/v1"
    config = write_config(tmp_path, url, timeout_s=2)
    started = time.monotonic()
    result = cli("--config", str(config), "chat", "anna", UNUSUAL, "--json")
    assert time.monotonic() - started < 2 + 5
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["source"] == "rules" and doc["intent"] == "unclear"
    assert doc["notice"] and url in doc["notice"] and doc["reply"].startswith(doc["notice"])
    assert "didn't understand" in doc["reply"]


async def test_a_slow_model_costs_one_timeout_and_one_notice(
    db_path: Path, service: ControlledService, model: ChatModelServer
) -> None:
    config = KernelConfig(llm=settings(model.base_url, timeout_s=1))
    async with await Kernel.open(db_path, config=config) as kernel:
        await _world(kernel, service)
        model.script(Scripted({"intent": "check", "entities": {"target": "shop"}}, delay_s=30))
        started = time.monotonic()
        first = await chat(kernel, "anna", UNUSUAL)
        assert time.monotonic() - started < 1 + 5
        assert first.source == "rules" and first.notice and "1 s" in first.notice
        second = await chat(kernel, "anna", "give the storefront the once-over please")
        assert second.notice is None and "not answering" not in second.reply
        assert len(model.bodies) == 1  # not asked again while it is down
        german = await chat(kernel, "anna", "check shop", lang="de")
        assert german.source == "rules" and german.notice is None


@pytest.mark.parametrize(
    "broken",
    [Scripted(status=500, body='{"error": "overloaded"}'), Scripted(body="<html>proxy</html>")],
    ids=["500", "not-json"],
)
async def test_a_broken_endpoint_is_a_down_one(
    db_path: Path, service: ControlledService, model: ChatModelServer, broken: Scripted
) -> None:
    config = KernelConfig(llm=settings(model.base_url))
    async with await Kernel.open(db_path, config=config) as kernel:
        await _world(kernel, service)
        model.script(broken)
        reply = await chat(kernel, "anna", UNUSUAL, lang="fr")
        assert reply.source == "rules" and reply.notice and "modèle de langage" in reply.notice


# --- answers from memories ---------------------------------------------------------------------


async def test_what_happened_is_answered_from_cited_memories_without_secrets(
    db_path: Path, service: ControlledService, model: ChatModelServer
) -> None:
    config = KernelConfig(llm=settings(model.base_url))
    async with await Kernel.open(db_path, config=config) as kernel:
        await _world(kernel, service)
        agent = await kernel.load_agent("anna")
        leaked = (
            f"shop failed: fix-shop ran with token {SECRET} against "
            f"http://ops:{ADDRESS_PASSWORD}@127.0.0.1:9/fix"
        )
        episode = await agent.memory.remember("incident", leaked, importance=0.9)
        model.script(
            Scripted(
                {"answer": "The shop failed and I ran fix-shop.", "cites": [f"episode:{episode}"]}
            )
        )
        reply = await chat(kernel, "anna", "what do you remember about shop?")
        assert reply.intent == "recall" and reply.source == "llm"
        assert reply.reply == "The shop failed and I ran fix-shop."
        assert reply.cites == [f"episode:{episode}"]
        (body,) = model.bodies
        assert f"episode:{episode}" in body["messages"][1]["content"]
        assert "You are anna" in body["messages"][0]["content"]
        assert_nothing_secret(model)
        # An answer citing what it was not given is not used: the rules' reply stands.
        model.script(Scripted({"answer": "Someone deleted prod.", "cites": ["episode:99999"]}))
        made_up = await chat(kernel, "anna", "what do you remember about shop?")
        assert made_up.source == "rules" and made_up.cites == []
        assert "deleted" not in made_up.reply and made_up.intent == "recall"


# --- the config ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ('base_url = "ftp://127.0.0.1/v1"', "base_url"),
        ('base_url = "http://me:pw@127.0.0.1:11434/v1"', "credentials"),
        ("timeout_s = 0", "timeout_s"),
        ("max_tokens = 1000000", "max_tokens"),
        ('api_key_env = "sk-live-abc def"', "api_key_env"),
        ('api_key = "sk-live-abc"', "api_key"),
    ],
)
def test_a_bad_llm_section_is_one_line_and_exit_2(
    cli: CliRunner, tmp_path: Path, line: str, named: str
) -> None:
    config = tmp_path / "config.toml"
    key = line.split(" = ")[0]
    base = {"base_url": '"http://127.0.0.1:11434/v1"', "model": '"llama3.2"'}
    base.pop(key, None)
    config.write_text(
        "[llm]\n" + "".join(f"{k} = {v}\n" for k, v in base.items()) + line + "\n",
        encoding="utf-8",
    )
    result = cli("--config", str(config), "agent", "list")
    assert result.code == 2 and named in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_the_llm_section_survives_a_theme_change(tmp_path: Path) -> None:
    from webops_tui.config import Settings, load_config

    path = tmp_path / "config.toml"
    path.write_text(
        '[llm]\nbase_url = "http://127.0.0.1:8080/v1/"\nmodel = "qwen2.5"\n'
        'api_key_env = "LLAMA_KEY"\ntimeout_s = 3.5\nmax_tokens = 200\n',
        encoding="utf-8",
    )
    settings = Settings.resolve(tmp_path / "w.db", config_path=path)
    before = settings.kernel_config().llm
    assert before is not None and before.base_url == "http://127.0.0.1:8080/v1"
    settings.remember_theme("nord")
    after = load_config(path)
    assert after.theme == "nord" and after.llm == before
    assert "LLAMA_KEY" in path.read_text(encoding="utf-8")


# --- incident report prose ---------------------------------------------------------------------


def test_the_incident_report_narrative_is_the_models_from_redacted_facts(
    cli: CliRunner, db_path: Path, model: ChatModelServer, tmp_path: Path
) -> None:
    from tests.test_incident_evidence import _run

    with ControlledService(healthy=False) as service:
        _run(db_path, service, risk="high", duration_s=30.0, stop_when_waiting=True)
    (waiting,) = cli("incidents", "--json").json()
    number = str(waiting["id"])
    assert cli("incident", "note", number, f"token={SECRET} pasted by mistake").code == 0
    config = write_config(tmp_path, model.base_url)
    prose = "The shop went down.\n\nben asked to run fix-shop and waits for a person."
    model.script(Scripted({"narrative": prose}))
    report = cli("--config", str(config), "incident", "report", number)
    assert report.code == 0, report.err
    out = report.out
    assert "## Narrative (written by the language model)\n\nThe shop went down.\n\nben asked" in out
    assert out.index("## Summary") < out.index("## Narrative") < out.index("## Impact")
    (body,) = model.bodies
    facts = body["messages"][1]["content"]
    assert '"fixed_by"' in facts and "shop" in facts and '"narrative' not in facts
    assert SECRET not in model.sent() and "127.0.0.1" not in model.sent()
    # Down: the summary stands, with a note saying why; the JSON says whose prose it is.
    down = write_config(tmp_path, f"http://127.0.0.1:{closed_port()}/v1", timeout_s=2)
    as_json = cli("--config", str(down), "incident", "report", number, "--json").json()
    assert as_json["narrative_source"] == "rules" and as_json["narrative"] == as_json["summary"]
    assert "cannot connect" in as_json["narrative_note"]
    plain = cli("incident", "report", number, "--format", "text").out
    assert (
        "Narrative" not in plain
        and cli("incident", "report", number, "--json").json()["narrative_note"] is None
    )


async def test_the_model_is_asked_again_after_a_while_and_an_outage_is_said_once_each(
    db_path: Path, service: ControlledService, model: ChatModelServer, clock: FakeClock
) -> None:
    config = KernelConfig(llm=settings(model.base_url))
    async with await Kernel.open(db_path, config=config, clock=clock) as kernel:
        await _world(kernel, service)
        model.script(Scripted(status=503, body="{}"))
        assert (await chat(kernel, "anna", UNUSUAL)).notice  # the outage begins: said
        assert (await chat(kernel, "anna", UNUSUAL)).notice is None  # not asked: still down
        clock.advance(RETRY_S + 1)
        model.script(Scripted({"intent": "check", "entities": {"target": "shop"}}))
        back = await chat(kernel, "anna", UNUSUAL)
        assert back.source == "llm" and back.notice is None and len(model.bodies) == 2
        model.script(Scripted(status=502, body="{}"))
        assert (await chat(kernel, "anna", UNUSUAL)).notice  # a new outage is said again


async def test_a_model_reading_never_decides_an_approval(
    db_path: Path, service: ControlledService, model: ChatModelServer
) -> None:
    config = KernelConfig(llm=settings(model.base_url))
    async with await Kernel.open(db_path, config=config) as kernel:
        await _world(kernel, service)
        service.healthy = False
        asked = await kernel.task("anna", "run fix-shop on shop")
        assert asked.status == "awaiting_approval" and asked.approval_id is not None
        number = asked.approval_id
        model.script(Scripted({"intent": "approve", "entities": {"approval_id": number}}))
        reply = await chat(kernel, "anna", f"yeah whatever, number {number} is fine by me")
        assert reply.source == "llm" and reply.intent == "approve"
        assert f'Say "approve {number}"' in reply.reply
        assert await kernel.pending_approval_ids() == [number] and service.fixes == 0
        done = await chat(kernel, "anna", f"approve {number}")  # the exact words: decided
        assert done.source == "rules" and done.intent == "approve" and service.fixes == 1


# --- the workbench -------------------------------------------------------------------------------


def test_the_workbench_marks_the_models_words_and_shows_them_literally(
    db_path: Path, service: ControlledService, model: ChatModelServer
) -> None:
    """A model's answer in the Chat tab says whose words they are and which memories they came
    from; markup and escape sequences in it are text, never styling."""
    asyncio.run(_workbench_chat(db_path, service, model))


async def _workbench_chat(
    db_path: Path, service: ControlledService, model: ChatModelServer
) -> None:
    from textual.widgets import Static

    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.chat_panel import ChatPanel

    async with await Kernel.open(db_path) as kernel:
        await _world(kernel, service)
        agent = await kernel.load_agent("anna")
        episode = await agent.memory.remember("incident", "shop failed at noon", importance=0.9)
    model.script(
        Scripted(
            {"answer": "[bold]shop[/] failed \x1b[31mat noon", "cites": [f"episode:{episode}"]}
        )
    )
    app = make_app(Settings(db_path=db_path, llm=settings(model.base_url)))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.press(*"what do you remember about shop?", "enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        chat_panel = app.query_one(ChatPanel)
        lines = [
            str(s.render()) for s in chat_panel.query("#chat-agent-log > Static").results(Static)
        ]
    said = f"anna (llm): [bold]shop[/] failed at noon  [from episode:{episode}]"
    assert said in lines, lines


async def test_the_understanding_and_the_answer_of_one_turn_share_its_token_budget(
    db_path: Path, service: ControlledService, model: ChatModelServer
) -> None:
    """`max_tokens` is a turn's budget: what the understanding took is not there for the answer,
    and a spent budget asks nothing more (the rules' words stand)."""
    config = KernelConfig(llm=settings(model.base_url).model_copy(update={"max_tokens": 400}))
    async with await Kernel.open(db_path, config=config) as kernel:
        await _world(kernel, service)
        agent = await kernel.load_agent("anna")
        episode = await agent.memory.remember("incident", "shop failed at noon", importance=0.9)
        asked = "fill me in on the storefront saga"
        recall = {"intent": "recall", "entities": {"target": "shop"}}
        model.script(
            Scripted(recall, completion_tokens=100),
            Scripted({"answer": "Shop failed at noon.", "cites": [f"episode:{episode}"]}),
        )
        reply = await chat(kernel, "anna", asked)
        assert reply.source == "llm" and reply.reply == "Shop failed at noon."
        assert [body["max_tokens"] for body in model.bodies] == [400, 300]
        model.script(Scripted(recall, completion_tokens=390))
        spent = await chat(kernel, "anna", asked)
        assert len(model.bodies) == 3  # 10 tokens left: no answer asked for
        assert spent.intent == "recall" and spent.source == "llm" and spent.cites == []
        model.script(Scripted(recall))  # no usage said: the whole budget counts as spent
        await chat(kernel, "anna", asked)
        assert len(model.bodies) == 4
