"""Understanding by a language model, for the messages the rules are unsure of.

The model answers with the same intents and entities the rules produce (JSON, validated here),
so it can only pick among what an operator could have typed: a target, runbook, teammate, skill
or pending approval must exist in the `Context`; a URL must be in the message itself; an
approval id must be one the operator wrote (or the only one pending), and even then the reply
asks for the exact words ("approve 3"): approvals are decided by people in words the rules
read, never on a model's reading. A runbook the model names
that does not exist is refused with the rules' own question ("I don't know a runbook called
X"); anything else the model gets wrong (not JSON, an unknown intent, a refusal, a missing
entity) leaves the rules' reading as it was: "I did not understand" is never made worse.
The resulting `Meaning` goes through the same `_respond` (decision, risk gate, approvals) as
a typed command.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.social.language.catalog import translator
from agent.social.language.model_redaction import Redactor
from agent.social.language.understand import Context, Intent, Meaning

#: Confidence of a reading the model gave and the validation let through.
MODEL_CONFIDENCE = 0.75
TOPIC_LIMIT = 120

INSTRUCTIONS = """\
Read the operator's message and say what it asks you to do, as one JSON object and nothing else:
{"intent": INTENT, "entities": {NAME: VALUE}}
INTENT is one of:
- "status": your state; "feeling": how you feel
- "check": look at a target's health; entities.target (from "targets") or entities.url
- "run_runbook": run a runbook; entities.runbook (from "runbooks"), optional entities.target
- "explain": why you did something; "recall": what happened (entities.topic);
  "knowledge": what you know (entities.topic)
- "learn_skill": practise entities.skill (from "skills")
- "feedback": praise or blame; entities.sentiment "good" or "bad"
- "approve" / "deny": a pending approval; entities.approval_id (from "pending_approvals")
- "handover": hand work to entities.agent (from "agents")
- "help", "smalltalk", or "unclear" when you are not sure.
Use names exactly as listed. Never swap a name for a similar one: if the operator names a
runbook or target that is not listed, give the name they used, as they wrote it."""

_ENTITY_KEYS = frozenset(
    {"target", "url", "runbook", "topic", "skill", "sentiment", "approval_id", "agent"}
)
_NUMBER = re.compile(r"\b[0-9]{1,9}\b")


class ModelReading(BaseModel):
    """The JSON the model must answer with (anything else is not understood)."""

    model_config = ConfigDict(extra="ignore")

    intent: Intent
    entities: dict[str, str | int] = Field(default_factory=dict)


def understanding_messages(
    text: str, context: Context, persona: str, redactor: Redactor
) -> list[dict[str, str]]:
    """The request: the agent's voice and the rules of the answer, then the operator's message
    with the names it may use (all redacted: no secret, no address, no user name)."""
    facts = {
        "message": redactor.text(text),
        "targets": redactor.names(context.targets),
        "runbooks": redactor.names(context.runbooks),
        "agents": context.agents,
        "skills": context.skills,
        "pending_approvals": context.pending_approvals,
    }
    return [
        {"role": "system", "content": f"{persona}\n\n{INSTRUCTIONS}"},
        {"role": "user", "content": json.dumps(facts, ensure_ascii=False)},
    ]


def json_object(content: str) -> Any:
    """The JSON object in `content`, also inside a ```json fence some models add."""
    content = content.strip()
    if content.startswith("```"):
        content = content.strip("`").removeprefix("json").strip()
    return json.loads(content)


def _known(value: str, names: list[str]) -> str | None:
    """`value` as one of `names` (case aside), or None."""
    if value in names:
        return value
    folded = {name.casefold(): name for name in names}
    return folded.get(value.casefold())


def read_understanding(
    content: str | None, text: str, context: Context, redactor: Redactor
) -> Meaning | None:
    """The model's reading of `text`, validated; None when the rules' reading must stand."""
    if not content:
        return None
    try:
        reading = ModelReading.model_validate(json_object(content))
    except (ValueError, ValidationError):
        return None
    if reading.intent is Intent.UNCLEAR:
        return None
    given = {
        key: redactor.restore(str(value)).strip()[:300]
        for key, value in reading.entities.items()
        if key in _ENTITY_KEYS
    }
    tr = translator(context.lang)
    intent = reading.intent
    entities: dict[str, str] = {}
    if "runbook" in given and intent is Intent.RUN_RUNBOOK:
        runbook = _known(given["runbook"], context.runbooks)
        if runbook is None:
            known = ", ".join(sorted(context.runbooks)) or "-"
            question = tr.translate("clarify.runbook.unknown", name=given["runbook"], options=known)
            return Meaning(intent=intent, confidence=0.4, clarify=question)
        entities["runbook"] = runbook
    for key, names in (
        ("target", context.targets),
        ("agent", context.agents),
        ("skill", context.skills),
    ):
        if key in given:
            found = _known(given[key], names)
            if found is None:
                return None  # an unknown name: the rules' question stands
            entities[key] = found
    if "url" in given:
        if given["url"] not in text:
            return None  # a URL the operator did not write
        entities["url"] = given["url"]
    if intent in (Intent.APPROVE, Intent.DENY):
        approval = _approval(given.get("approval_id", ""), text, context)
        if approval is None:
            return None
        # Never a decision: the operator confirms in the exact words the rules (and the
        # workbench's confirmation dialog) know, so no model reading approves anything.
        verb = "approve" if intent is Intent.APPROVE else "deny"
        question = tr.translate(f"clarify.{verb}.exact", id=approval)
        return Meaning(
            intent=intent, entities={"approval_id": approval}, confidence=0.4, clarify=question
        )
    if intent is Intent.FEEDBACK:
        if given.get("sentiment") not in ("good", "bad"):
            return None
        entities["sentiment"] = given["sentiment"]
    if intent in (Intent.RECALL, Intent.KNOWLEDGE, Intent.EXPLAIN) and given.get("topic"):
        entities["topic"] = given["topic"][:TOPIC_LIMIT]
    if not _complete(intent, entities, context):
        return None
    return Meaning(intent=intent, entities=entities, confidence=MODEL_CONFIDENCE)


def _approval(wanted: str, text: str, context: Context) -> str | None:
    """The approval id the operator meant: one they wrote and that is pending, or the only
    pending one when they wrote no number. A model never picks an approval by itself."""
    written = _NUMBER.findall(text)
    pending = [str(i) for i in context.pending_approvals]
    if written:
        return wanted if wanted in written and wanted in pending else None
    return pending[0] if len(pending) == 1 and wanted in ("", pending[0]) else None


def _complete(intent: Intent, entities: dict[str, str], context: Context) -> bool:
    """Whether the reading has what its action needs (as the rules demand before acting)."""
    if intent is Intent.CHECK and "target" not in entities and "url" not in entities:
        if len(context.targets) != 1:
            return False
        entities["target"] = context.targets[0]
    required = {
        Intent.RUN_RUNBOOK: "runbook",
        Intent.LEARN_SKILL: "skill",
        Intent.HANDOVER: "agent",
    }.get(intent)
    return required is None or required in entities
