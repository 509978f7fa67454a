"""The one place secrets are taken out of text that leaves a runbook run.

Everything a run produces (stdout, stderr, an HTTP body, the detail line, the text of any
exception, httpx's `InvalidURL` included) passes through `scrub` *before* it is cut to size:
cutting first would leave half a secret on either side of the cut, where no whole value matches.
A multi-line secret (a PEM key, a token file) is also scrubbed line by line, because programs
print it line by line and a detail line shows only the last one.
"""

from __future__ import annotations

MASK = "******"
#: Lines of a multi-line secret shorter than this are not scrubbed alone: masking every "}" or
#: "--" in the output would hide everything and protect nothing.
MIN_LINE = 4


def fragments(secrets: dict[str, str]) -> list[str]:
    """The texts to mask: every value, and every line of a multi-line one, longest first (so a
    whole value is masked before one of its lines could split it)."""
    found: set[str] = set()
    for value in secrets.values():
        if not value:
            continue
        found.add(value)
        for line in value.splitlines():
            line = line.strip()
            if len(line) >= MIN_LINE:
                found.add(line)
    return sorted(found, key=len, reverse=True)


def scrub(text: str, secrets: dict[str, str]) -> str:
    for fragment in fragments(secrets):
        text = text.replace(fragment, MASK)
    return text


def scrubbed_tail(text: str, secrets: dict[str, str], limit: int) -> str:
    """The last `limit` characters of `text`, scrubbed first."""
    return scrub(text, secrets)[-limit:]


def scrubbed_head(text: str, secrets: dict[str, str], limit: int) -> str:
    """The first `limit` characters of `text`, scrubbed first."""
    return scrub(text, secrets)[:limit]
