"""Conversations with an agent: understand the operator, do what was asked, answer in the
agent's own voice (personality and mood) and language, and remember the exchange.

Chat can only trigger what an operator defined: checks of defined targets (or a URL),
runbooks by name, approvals by id. A message that is unclear, or a risky request whose
runbook is not recognised with confidence, gets a clarifying question, never a guess.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from agent.errors import InvalidInput, WebopsError
from agent.memory.learning import Feedback
from agent.mind.emotions import EMOTIONS, Appraisal
from agent.mind.mood import Mood
from agent.skills.actions import ActionRequest
from agent.social.language.catalog import translator
from agent.social.language.generate import ReplyMeaning, Style, generate
from agent.social.language.understand import Context, Intent, Meaning, understand
from agent.social.messaging import MessageBus, as_operator

if TYPE_CHECKING:
    from agent.core.agent import WebOpsAgent
    from agent.core.kernel import Kernel


#: Checks one "practise SKILL" turn runs (each a real, harmless check of a defined target).
PRACTICE_RUNS = 10


class ChatReply(BaseModel):
    """`webops chat --json`."""

    reply: str
    intent: str
    entities: dict[str, str]
    emotions: dict[str, float]
    mood: Mood
    confidence: float
    lang: str
    explanation: dict[str, Any] | None = None
    #: Whose words these are: the rules' and catalogue's, or the language model's (`[llm]`).
    source: Literal["rules", "llm"] = "rules"
    #: The memories ("episode:12", "fact:3") a model's answer was written from.
    cites: list[str] = Field(default_factory=list)
    #: Said once when the language model stopped answering (the reply begins with it).
    notice: str | None = None


async def chat(
    kernel: Kernel,
    name: str,
    text: str,
    *,
    operator: str = "operator",
    lang: str = "en",
    actor: str | None = None,
) -> ChatReply:
    """One chat turn from `operator` (the name the agent talks with). An approval or denial
    said here is audited as `actor` (the API token; the OS user when None), with the
    operator's name as a note beside it: a chat name is never an actor."""
    translator(lang)  # an unknown language is refused before anything happens
    given, operator = operator, as_operator(operator)
    if not text.strip():
        raise InvalidInput("say something: the message is empty")
    agent = await kernel.start_agent(name)
    await kernel.ops.refresh()
    team = [other for other in await kernel.agent_names() if other != name]
    context = Context(
        targets=sorted(kernel.ops.targets),
        runbooks=sorted(kernel.ops.runbooks),
        agents=team,
        skills=kernel.skill_registry.names(),
        pending_approvals=await kernel.pending_approval_ids(),
        last_topic=agent.last_topic,
        lang=lang,
    )
    meaning = understand(text, context)
    model = kernel.language_model
    helper = None
    if model is not None:
        from agent.core.model_turn import ModelTurn

        helper = ModelTurn(kernel, model, agent, [name, *team], lang)
        meaning = await helper.understand(text, context, meaning)
    key, params, explanation = await _respond(kernel, agent, meaning, operator, (actor, given))
    agent.last_topic = (
        meaning.entities.get("target") or meaning.entities.get("topic") or (agent.last_topic)
    )
    style = Style.of(agent.mind.effects, agent.mind.mood(), lang)
    reply = generate(
        ReplyMeaning(key=key, params=params), style, seed=kernel.config.seed + agent.id
    )
    cites: list[str] = []
    if helper is not None:
        reply, cites = await helper.answer(text, meaning, key, reply)
        reply = helper.with_notice(reply)
    await record_chat(kernel.messages, agent.name, operator, text, reply, meaning, lang)
    await agent.memory.remember(
        "conversation",
        f"{operator}: {text} / {name}: {reply}",
        importance=0.3,
        details={"intent": meaning.intent, "entities": meaning.entities, "lang": lang},
    )
    return ChatReply(
        reply=reply,
        intent=meaning.intent,
        entities=meaning.entities,
        emotions=agent.mind.as_dict(),
        mood=agent.mind.mood(),
        confidence=meaning.confidence,
        lang=lang,
        explanation=explanation,
        source=helper.source if helper is not None else "rules",
        cites=cites,
        notice=helper.notice if helper is not None else None,
    )


async def decision_asked(kernel: Kernel, text: str) -> tuple[int, bool] | None:
    """(approval id, approve?) when `text` asks to approve or deny one pending approval, as
    `chat` would understand it; None for anything else. The workbench asks the operator to
    confirm such a message before deciding, instead of letting a chat line run an action."""
    context = Context(
        targets=sorted(kernel.ops.targets),
        runbooks=sorted(kernel.ops.runbooks),
        pending_approvals=await kernel.pending_approval_ids(),
    )
    meaning = understand(text, context)
    if meaning.intent not in (Intent.APPROVE, Intent.DENY) or meaning.clarify:
        return None
    wanted = meaning.entities.get("approval_id", "")
    if not wanted.isdigit() or int(wanted) not in context.pending_approvals:
        return None
    return int(wanted), meaning.intent is Intent.APPROVE


async def record_chat(
    messages: MessageBus,
    agent: str,
    operator: str,
    text: str,
    reply: str,
    meaning: Meaning,
    lang: str,
) -> None:
    """Both turns of a chat exchange, in the agent's conversation with this operator (read
    back by `Kernel.conversation`)."""
    details = {"intent": str(meaning.intent), "entities": meaning.entities}
    await messages.send_message(operator, agent, text, kind="chat", meaning=details, lang=lang)
    await messages.receive_message(agent, timeout=0)
    await messages.send_message(agent, operator, reply, kind="chat", lang=lang)
    await messages.receive_message(operator, timeout=0)


def strongest_emotion(agent: WebOpsAgent) -> tuple[str, float]:
    """The emotion furthest above its resting level (what the gauges show most)."""
    values = agent.mind.emotions
    rest = agent.mind.rest
    index = max(range(len(EMOTIONS)), key=lambda i: values[i] - rest[i])
    return EMOTIONS[index], values[index]


async def _respond(
    kernel: Kernel,
    agent: WebOpsAgent,
    meaning: Meaning,
    operator: str,
    who: tuple[str | None, str],
) -> tuple[str, dict[str, str], dict[str, Any] | None]:
    """`who`: the actor an approval is audited as, and the name the operator gave."""
    e = meaning.entities
    intent = meaning.intent
    if meaning.clarify or intent is Intent.UNCLEAR:
        return "clarify", {"question": meaning.clarify or "what would you like me to do?"}, None
    if intent is Intent.FEELING:
        emotion, value = strongest_emotion(agent)
        mood = agent.mind.mood()
        return "feeling", {"mood": mood.label, "emotion": emotion, "value": f"{value:.2f}"}, None
    if intent is Intent.STATUS:
        status = await kernel.status(agent.name)
        return (
            "status",
            {
                "state": status.state,
                "mood": status.mood.label,
                "count": str(status.memory["episodic"]),
                "summary": f"{len(status.skills)} skills, {len(status.records)} kinds of action",
            },
            None,
        )
    if intent in (Intent.CHECK, Intent.RUN_RUNBOOK):
        task = (
            f"check {e['url']}"
            if "url" in e
            else f"check {e.get('target', '')}"
            if intent is Intent.CHECK
            else f"run {e['runbook']}" + (f" on {e['target']}" if "target" in e else "")
        )
        try:
            result = await kernel.task(agent.name, task)
        except WebopsError as exc:
            return "clarify", {"question": exc.message}, None
        data = (result.result or {}).get("data", {})
        params = {
            "target": e.get("target") or e.get("url") or "-",
            "runbook": e.get("runbook", "-"),
            "detail": result.summary[:200],
            "latency": f"{data['latency_ms']:.0f}" if data.get("latency_ms") else "?",
            "id": str(result.approval_id or ""),
        }
        if result.status == "awaiting_approval":
            return "awaiting_approval", params, result.explanation
        if intent is Intent.CHECK:
            return (
                ("check_ok" if result.status == "succeeded" else "check_failed"),
                params,
                (result.explanation),
            )
        return (
            ("ran_ok" if result.status == "succeeded" else "ran_failed"),
            params,
            (result.explanation),
        )
    if intent is Intent.EXPLAIN:
        decision = agent.last_decision
        if decision is None:  # a new process: the last decision is in memory, not in mind
            recent = [
                i
                for i in await agent.memory.recent_episodes(50)
                if i.summary.startswith("[decision]")
            ]
            if not recent:
                return "explain", {"summary": "I have not decided anything yet."}, None
            return (
                "explain",
                {"summary": recent[0].summary.removeprefix("[decision] ")},
                (recent[0].details),
            )
        return (
            "explain",
            {"summary": decision.explanation.summary},
            (decision.explanation.model_dump(mode="json")),
        )
    if intent is Intent.RECALL:
        topic = e.get("topic") or e.get("target") or agent.last_topic or ""
        found = await agent.memory.recall_similar(topic, 3) if topic else []
        if not found:
            return "recall_none", {"topic": topic or "that"}, None
        return (
            "recall_some",
            {"topic": topic, "count": str(len(found)), "summary": found[0].summary[:200]},
            None,
        )
    if intent is Intent.KNOWLEDGE:
        topic = e.get("topic") or e.get("target") or ""
        facts = await agent.memory.query_facts(text=topic, limit=3) if topic else []
        if not facts:
            return "knowledge_none", {"topic": topic or "that"}, None
        return (
            "knowledge_some",
            {"topic": topic, "count": str(len(facts)), "summary": facts[0].summary[:200]},
            None,
        )
    if intent is Intent.LEARN_SKILL:
        return await _practise(kernel, agent, e.get("skill", ""), e.get("target"))
    if intent is Intent.FEEDBACK:
        positive = e.get("sentiment") == "good"
        agent.feel(
            Appraisal.PRAISE if positive else Appraisal.CRITICISM,
            0.6,
            cause=f"{operator} said {'good' if positive else 'bad'}",
        )
        last = agent.last_decision
        if last is not None and last.action and agent.last_situation:
            agent.memory.learner.feedback(
                agent.last_situation, last.action, Feedback.GOOD if positive else Feedback.BAD
            )
        kernel.relationships.record_feedback(agent.name, operator, positive, kernel.clock())
        kernel.mark_dirty(agent)
        return ("thanks_feedback" if positive else "sorry_feedback"), {}, None
    if intent in (Intent.APPROVE, Intent.DENY):
        approval_id = int(e["approval_id"])
        try:
            if intent is Intent.APPROVE:
                view = await kernel.approve(approval_id, by=who[0], note=who[1])
            else:
                view = await kernel.deny(approval_id, by=who[0], note=who[1])
        except WebopsError as exc:
            return "clarify", {"question": exc.message}, None
        return (
            ("approved" if intent is Intent.APPROVE else "denied"),
            {
                "id": str(approval_id),
                "action": view.action,
                "detail": (view.result or {}).get("detail", view.status),
            },
            None,
        )
    if intent is Intent.HANDOVER:
        other = e.get("agent", "")
        await kernel.messages.send_message(
            agent.name, other, f"{operator} asked me to hand over to you", kind="direct"
        )
        kernel.relationships.record_handover(agent.name, other, kernel.clock())
        return "handed_over", {"agent": other}, None
    if intent is Intent.HELP:
        return "help", {"targets": ", ".join(sorted(kernel.ops.targets)) or "-"}, None
    return "smalltalk", {"operator": operator}, None


async def _practise(
    kernel: Kernel, agent: WebOpsAgent, skill: str, target: str | None
) -> tuple[str, dict[str, str], dict[str, Any] | None]:
    """Deliberate practice (`master_skill`): up to `PRACTICE_RUNS` real checks of a defined
    target that use the skill, never a remedy; the reply says how many ran, how many passed
    and how proficiency moved. With no harmless use, or nothing left to learn, it says so and
    claims no practice."""
    state = agent.skills.learn_skill(skill, kernel.clock())
    kernel.mark_dirty(agent)
    practice = _practice_check(kernel, skill, target)
    if practice is None:
        return "practice_none", {"skill": skill, "proficiency": f"{state.proficiency:.2f}"}, None
    if state.level == "master":
        return (
            "practice_mastered",
            {"skill": skill, "proficiency": f"{state.proficiency:.2f}"},
            None,
        )
    before, runs, ok = state.proficiency, state.practice_count, state.successes
    state = await agent.master_skill(skill, practice, max_runs=PRACTICE_RUNS)
    kernel.mark_dirty(agent)
    runs, ok = state.practice_count - runs, state.successes - ok
    params = {
        "skill": skill,
        "target": practice.target or "-",
        "runs": str(runs),
        "ok": str(ok),
        "before": f"{before:.2f}",
        "after": f"{state.proficiency:.2f}",
        "level": state.level,
    }
    return "learned_skill", params, {"practice": {**params, "action": practice.action}}


def _practice_check(kernel: Kernel, skill: str, target: str | None) -> ActionRequest | None:
    """A check that exercises `skill`: on the named target, or else on the first defined
    target whose check uses it; None when the skill has no harmless use here."""
    names = [target] if target in kernel.ops.targets else sorted(kernel.ops.targets)
    for name in names:
        request = kernel.ops.check_request(name)
        spec = kernel.actions.spec(request.action)
        if spec.skill == skill and not spec.mutates:
            return request
    return None
