"""What may leave for a language model: the secrets taken out, then what an export's
`--anonymize` hides replaced by pseudonyms.

Every text and document sent to a model passes through one `Redactor` per request. First the
values of every runbook secret (and every credential in a target's address) are masked, the
way a run's output is scrubbed (agent/ops/scrub.py's rule, whole values and lines); then the
anonymiser (agent/social/anonymize.py) turns host names, IP addresses, e-mail addresses,
tokens, URL credentials and user names into stable pseudonyms. What the model answers is read
back through `restore`, so a target the model names as `host-1` is the operator's own again;
a masked secret is gone for good.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from agent.social.anonymize import Anonymizer

MASK = "******"
#: Shorter lines of a multi-line secret are not masked alone (they would mask every "}").
MIN_LINE = 4
#: C0/C1 controls but tab and newline, and escape sequences: never shown from a model's text.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _fragments(secrets: Iterable[str]) -> list[str]:
    found: set[str] = set()
    for value in secrets:
        if not value:
            continue
        found.add(value)
        found.update(line.strip() for line in value.splitlines() if len(line.strip()) >= MIN_LINE)
    return sorted(found, key=len, reverse=True)


class Redactor:
    def __init__(self, secrets: Iterable[str] = (), agents: Iterable[str] = ()) -> None:
        self._fragments = _fragments(secrets)
        self._anonymizer = Anonymizer()
        self._anonymizer.keep_agents(agents)

    def text(self, value: str) -> str:
        for fragment in self._fragments:
            value = value.replace(fragment, MASK)
        return self._anonymizer.text(value)

    def names(self, names: Iterable[str]) -> list[str]:
        return [self.text(name) for name in names]

    def document(self, value: Any) -> Any:
        """A JSON document with every string redacted (actors' names hidden as users)."""
        masked = _masked(value, self._fragments)
        return self._anonymizer.documents([masked])[0]

    def restore(self, value: str) -> str:
        return self._anonymizer.restore(value)


def _masked(value: Any, fragments: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, fragments) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, fragments) for v in value]
    if isinstance(value, str):
        for fragment in fragments:
            value = value.replace(fragment, MASK)
    return value


def model_text(value: str, limit: int) -> str:
    """A model's words as they may be shown: no controls or escape sequences, at most `limit`
    characters (cut at a word), trimmed."""
    value = _CONTROL.sub("", value).strip()
    if len(value) <= limit:
        return value
    cut = value[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"
