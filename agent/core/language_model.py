"""The kernel's handle on the optional language model (`[llm]`): asks it, and remembers when it
is down so that the operator hears so once per outage, not on every turn.

The first failure of an outage leaves a notice for the turn to say ("my language model at URL
is not answering (...); I'm using my own words"); later turns fall back silently. While it is
down the model is asked again only after `RETRY_S`, so a dead endpoint costs one timeout, not
one per message. The first answer after an outage ends it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from agent.social.language.model_config import LanguageModelSettings
from agent.social.language.model_redaction import Redactor

if TYPE_CHECKING:
    from agent.ops.postmortem import Postmortem
    from agent.ops.service import Ops
    from agent.social.language.model_client import Completion

logger = logging.getLogger("webops.llm")

#: Seconds after a failure before a down model is asked again.
RETRY_S = 30.0


class LanguageModel:
    def __init__(
        self, settings: LanguageModelSettings, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._down_until: float | None = None
        self._notice: str | None = None

    @property
    def down(self) -> bool:
        return self._down_until is not None

    async def ask(
        self,
        messages: list[dict[str, str]],
        *,
        json_output: bool = True,
        max_tokens: int | None = None,
    ) -> Completion | None:
        """The model's answer, or None (down, or failing now: see `take_notice`)."""
        from agent.social.language.model_client import ModelUnavailable, complete

        if self._down_until is not None and self._clock() < self._down_until:
            return None
        try:
            completion = await complete(
                self.settings, messages, json_output=json_output, max_tokens=max_tokens
            )
        except ModelUnavailable as exc:
            if self._down_until is None:
                self._notice = exc.reason
                logger.warning("language model at %s: %s", self.settings.base_url, exc.reason)
            self._down_until = self._clock() + RETRY_S
            return None
        if self._down_until is not None:
            logger.info("language model at %s answers again", self.settings.base_url)
        self._down_until = None
        return completion

    def take_notice(self) -> str | None:
        """Why the model just went down, once per outage (then None until the next one)."""
        notice, self._notice = self._notice, None
        return notice


def redactor_for(ops: Ops, agents: Iterable[str]) -> Redactor:
    """What must never reach a model: every runbook secret and every credential written into
    a target's address (and, through the anonymiser, hosts, addresses, tokens, users)."""
    from urllib.parse import urlsplit

    secrets: list[str] = [v for spec in ops.runbooks.values() for v in spec.secrets.values()]
    for spec in ops.targets.values():
        try:
            parts = urlsplit(spec.address)
        except ValueError:
            continue
        secrets += [part for part in (parts.password, parts.username) if part]
    return Redactor(secrets, agents)


def usable(completion: Completion | None) -> str | None:
    """The answer's text, unless there is none or the model refused."""
    if completion is None or completion.refusal or completion.finish_reason == "content_filter":
        return None
    return completion.content


async def narrated(model: LanguageModel, report: Postmortem, redactor: Redactor) -> Postmortem:
    """`report` with the model's narrative, written from its facts (redacted); as it was, with
    a note saying why, when the model gives none."""
    from agent.social.language.model_answers import narrative_messages, read_narrative

    facts = report.model_dump(
        mode="json", exclude={"narrative", "narrative_source", "narrative_note"}
    )
    completion = await model.ask(narrative_messages(facts, redactor))
    narrative = read_narrative(usable(completion), redactor)
    if narrative is not None:
        return report.model_copy(update={"narrative": narrative, "narrative_source": "llm"})
    reason = model.take_notice() or (
        "is down" if completion is None else "gave no usable narrative"
    )
    note = f"the language model at {model.settings.base_url}: {reason}; the summary stands"
    return report.model_copy(update={"narrative_note": note})
