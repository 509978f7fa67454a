"""Answers to "what happened / why / what do you know" written by a language model from the
agent's own memories, and the prose of an incident report.

The model sees only what was retrieved (episodes from recall, facts from semantic memory, the
last decision's explanation), each under an id, redacted (agent/social/language/model_redaction.py),
and must say which ids it used. An answer that cites nothing, or an id it was not given, is not
used: the rules' reply stands, since an answer that cannot show its sources may be made up.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.social.language.model_redaction import Redactor, model_text
from agent.social.language.model_understanding import json_object

#: The longest answer shown in a chat, and the longest report narrative kept.
ANSWER_LIMIT = 800
NARRATIVE_LIMIT = 4000

ANSWER_INSTRUCTIONS = """\
Answer the operator's question from your memories below and nothing else. Reply with one JSON
object and nothing else: {"answer": "...", "cites": ["id", ...]}, where cites lists the ids of
the memories your answer uses. If the memories do not answer it, say so and cite nothing."""

NARRATIVE_INSTRUCTIONS = """\
You write the narrative of an incident report for the operators: what happened, in order, what
was tried and what fixed it, and what to change. Use only the facts in the JSON below (times
are Unix seconds). Reply with one JSON object and nothing else: {"narrative": "..."}, the
narrative being two or three short paragraphs of plain text."""


class Memory(BaseModel):
    """One retrieved memory as the model sees it."""

    id: str
    kind: str
    summary: str


class ModelAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    answer: str = Field(min_length=1)
    cites: list[str] = Field(default_factory=list)


class _Narrative(BaseModel):
    model_config = ConfigDict(extra="ignore")

    narrative: str = Field(min_length=1)


def answer_messages(
    question: str, memories: list[Memory], persona: str, redactor: Redactor
) -> list[dict[str, str]]:
    shown = [{"id": m.id, "kind": m.kind, "summary": redactor.text(m.summary)} for m in memories]
    facts = {"question": redactor.text(question), "memories": shown}
    return [
        {"role": "system", "content": f"{persona}\n\n{ANSWER_INSTRUCTIONS}"},
        {"role": "user", "content": json.dumps(facts, ensure_ascii=False)},
    ]


def read_answer(
    content: str | None, memories: list[Memory], redactor: Redactor
) -> ModelAnswer | None:
    """The model's answer when it cites only memories it was given (at least one)."""
    if not content:
        return None
    try:
        answer = ModelAnswer.model_validate(json_object(content))
    except (ValueError, ValidationError):
        return None
    given = {m.id for m in memories}
    cites = list(dict.fromkeys(answer.cites))
    if not cites or not set(cites) <= given:
        return None
    text = model_text(redactor.restore(answer.answer), ANSWER_LIMIT)
    return ModelAnswer(answer=text, cites=cites) if text else None


def narrative_messages(report: dict[str, Any], redactor: Redactor) -> list[dict[str, str]]:
    """The request for a report's prose: the postmortem's facts as JSON, redacted."""
    facts = json.dumps(redactor.document(report), ensure_ascii=False)
    return [
        {"role": "system", "content": NARRATIVE_INSTRUCTIONS},
        {"role": "user", "content": facts},
    ]


def read_narrative(content: str | None, redactor: Redactor) -> str | None:
    if not content:
        return None
    try:
        narrative = _Narrative.model_validate(json_object(content)).narrative
    except (ValueError, ValidationError):
        return None
    return model_text(redactor.restore(narrative), NARRATIVE_LIMIT) or None
