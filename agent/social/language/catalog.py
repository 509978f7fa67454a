"""The agents' own messages in several languages, through the standard library's gettext.

Every sentence an agent says, English included, is looked up by a stable key such as
"reply.feeling.core.1" in `locale/<lang>/LC_MESSAGES/webops.po` (compiled to the `.mo` next to
it by `python -m agent.social.language.msgfmt`). Keeping English in a catalogue too means no
phrase is hard-coded in Python, and a missing translation is a test failure rather than a
silent fallback.

Placeholders are `str.format` fields (`{target}`); values arrive already formatted. A field
with no value is left as written, so a mistake shows up in the text instead of crashing a chat.
Arbitrary text (an operator's message) is never translated here: only the agents' messages.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

from agent.errors import InvalidInput, OperationFailed

DOMAIN = "webops"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "de", "fr")


class _KeepMissing(dict[str, object]):
    """Format values where a missing field stays `{field}` instead of raising KeyError."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Translator:
    """One language's catalogue: look messages up by key and fill their placeholders."""

    def __init__(self, lang: str, catalogue: gettext.NullTranslations) -> None:
        self.lang = lang
        self._catalogue = catalogue

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"

    def has(self, msgid: str) -> bool:
        """Whether the catalogue translates `msgid` (gettext returns unknown ids unchanged)."""
        return self._catalogue.gettext(msgid) != msgid

    def template(self, msgid: str) -> str:
        """The raw text for `msgid`, placeholders unfilled; an unknown id comes back as is."""
        return self._catalogue.gettext(msgid)

    def translate(self, msgid: str, **params: object) -> str:
        """The message for `msgid` in this language with `params` filled in."""
        return fill(self.template(msgid), params)

    def variants(self, stem: str) -> tuple[str, ...]:
        """The msgids `stem.1`, `stem.2`, ... that exist, in order (numbering must not skip)."""
        found: list[str] = []
        while self.has(msgid := f"{stem}.{len(found) + 1}"):
            found.append(msgid)
        return tuple(found)


def fill(template: str, params: dict[str, object]) -> str:
    """`template` with `{name}` fields replaced from `params`; unknown fields are kept."""
    return template.format_map(_KeepMissing(params))


def normalise_language(lang: str) -> str:
    """'de', 'DE', 'de-AT' and 'de_DE.UTF-8' all mean 'de'; unknown languages are refused."""
    code = lang.strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    if code not in LANGUAGES:
        raise InvalidInput(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    return code


@lru_cache(maxsize=len(LANGUAGES))
def _load(code: str) -> Translator:
    try:
        catalogue = gettext.translation(DOMAIN, LOCALE_DIR, languages=[code], fallback=False)
    except OSError:
        raise OperationFailed(
            f"the {code!r} message catalogue is missing; run python -m agent.social.language.msgfmt"
        ) from None
    return Translator(code, catalogue)


def translator(lang: str) -> Translator:
    """The catalogue for `lang` (one of `LANGUAGES`); raises InvalidInput for any other."""
    return _load(normalise_language(lang))


def translate(text_key: str, lang: str, **params: object) -> str:
    """One message in one language: `translate("reply.help.core.1", "de", targets="shop")`."""
    return translator(lang).translate(text_key, **params)
