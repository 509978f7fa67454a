"""One chat turn's use of the language model (`[llm]`): understanding when the rules are
unsure, answers to "what happened / why / what do you know" from retrieved memories, and the
notice when the model is down. Without `[llm]` this module is never imported.

Nothing here acts: a reading the model gives is a `Meaning` like the rules', handed back to
`conversation._respond`, which runs it through the same decision, risk gate and approvals as
a typed command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from agent.core.language_model import redactor_for, usable
from agent.social.language.catalog import translator
from agent.social.language.generate import Style
from agent.social.language.model_answers import Memory, answer_messages, read_answer
from agent.social.language.model_prompt import persona
from agent.social.language.model_understanding import read_understanding, understanding_messages
from agent.social.language.understand import Context, Intent, Meaning

if TYPE_CHECKING:
    from agent.core.agent import WebOpsAgent
    from agent.core.kernel import Kernel
    from agent.core.language_model import LanguageModel

#: Below this confidence the rules' reading is checked with the model.
UNSURE_BELOW = 0.5
#: Memories of each kind retrieved for an answer.
RETRIEVED = 5
#: The smallest request worth making: below it the turn's budget is spent.
MIN_REQUEST_TOKENS = 16
#: The reply keys whose offline sentence a model's answer from memories replaces.
_ANSWERED = frozenset({"explain", "recall_some", "knowledge_some"})


class ModelTurn:
    def __init__(
        self,
        kernel: Kernel,
        model: LanguageModel,
        agent: WebOpsAgent,
        agents: list[str],
        lang: str,
    ) -> None:
        self.kernel = kernel
        self.model = model
        self.agent = agent
        self.lang = lang
        self.redactor = redactor_for(kernel.ops, agents)
        self.source: Literal["rules", "llm"] = "rules"
        self.notice: str | None = None
        #: `max_tokens` is the budget of the whole turn: understanding and answer share it.
        self.budget = model.settings.max_tokens

    async def _ask(self, messages: list[dict[str, str]]) -> str | None:
        """The model's usable answer within what is left of the turn's budget; an answer
        whose size the server does not report counts as the whole of what it was allowed."""
        if self.budget < MIN_REQUEST_TOKENS:
            return None
        completion = await self.model.ask(messages, max_tokens=self.budget)
        if completion is not None:
            spent = completion.completion_tokens
            self.budget -= self.budget if spent is None else min(spent, self.budget)
        return usable(completion)

    def _persona(self) -> str:
        mind = self.agent.mind
        style = Style.of(mind.effects, mind.mood(), self.lang)
        return persona(self.agent.name, mind.personality.as_dict(), mind.as_dict(), style)

    async def understand(self, text: str, context: Context, meaning: Meaning) -> Meaning:
        """The model's reading when the rules are unsure and it gives a valid one."""
        unsure = (
            meaning.intent is Intent.UNCLEAR
            or meaning.clarify is not None
            or meaning.confidence < UNSURE_BELOW
        )
        if not unsure:
            return meaning
        messages = understanding_messages(text, context, self._persona(), self.redactor)
        content = await self._ask(messages)
        reading = read_understanding(content, text, context, self.redactor)
        if reading is None:
            return meaning
        self.source = "llm"
        return reading

    async def answer(
        self, text: str, meaning: Meaning, key: str, reply: str
    ) -> tuple[str, list[str]]:
        """The model's answer from memories, with the ids it cites; else the rules' reply."""
        if key not in _ANSWERED:
            return reply, []
        memories = await self._memories(meaning)
        if not memories:
            return reply, []
        messages = answer_messages(text, memories, self._persona(), self.redactor)
        answer = read_answer(await self._ask(messages), memories, self.redactor)
        if answer is None:
            return reply, []
        self.source = "llm"
        return answer.answer, answer.cites

    async def _memories(self, meaning: Meaning) -> list[Memory]:
        """What the rules' reply was drawn from, and a little more: episodes like the topic,
        facts about it, and (for "why") the last decisions."""
        memory = self.agent.memory
        topic = meaning.entities.get("topic") or meaning.entities.get("target") or ""
        topic = topic or self.agent.last_topic or ""
        found = []
        if meaning.intent is Intent.EXPLAIN:
            recent = await memory.recent_episodes(50)
            found += [i for i in recent if i.summary.startswith("[decision]")][:3]
        if topic:
            if meaning.intent is not Intent.KNOWLEDGE:
                found += await memory.recall_similar(topic, RETRIEVED)
            found += await memory.query_facts(text=topic, limit=RETRIEVED)
        memories: dict[str, Memory] = {}
        for item in found:
            name = "fact" if item.kind == "semantic" else "episode"
            memories.setdefault(
                f"{name}:{item.id}",
                Memory(id=f"{name}:{item.id}", kind=name, summary=item.summary[:500]),
            )
        return list(memories.values())

    def with_notice(self, reply: str) -> str:
        """`reply`, led by the notice that the model stopped answering (once per outage)."""
        reason = self.model.take_notice()
        if reason is None:
            return reply
        self.notice = translator(self.lang).translate(
            "notice.model_down", url=self.model.settings.base_url, reason=reason
        )
        return f"{self.notice} {reply}"
