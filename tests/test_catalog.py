"""Message catalogues: complete in every language, .mo files in step with their .po sources."""

from __future__ import annotations

import gettext
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import InvalidInput
from agent.social.language import msgfmt
from agent.social.language.catalog import LANGUAGES, LOCALE_DIR, translate, translator
from agent.social.language.msgfmt import mo_bytes, read_po

PO = {lang: LOCALE_DIR / lang / "LC_MESSAGES" / "webops.po" for lang in LANGUAGES}
MESSAGES = {lang: {k: v for k, v in read_po(path).items() if k} for lang, path in PO.items()}
ALL_IDS = sorted(set().union(*MESSAGES.values()))


def fields(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_msgid_is_translated_in_every_catalogue(lang: str) -> None:
    # read_po leaves out empty (untranslated) entries, so "missing" covers "empty" too.
    missing = [msgid for msgid in ALL_IDS if not MESSAGES[lang].get(msgid, "").strip()]
    assert not missing, f"{lang} lacks {missing}"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_translations_keep_the_placeholders(lang: str) -> None:
    wrong = {
        msgid: (fields(MESSAGES["en"][msgid]), fields(MESSAGES[lang][msgid]))
        for msgid in ALL_IDS
        if fields(MESSAGES["en"][msgid]) != fields(MESSAGES[lang][msgid])
    }
    assert not wrong


def test_numbered_variants_have_no_gaps() -> None:
    # Translator.variants stops at the first missing number, so a gap would hide the rest.
    stems: dict[str, set[int]] = {}
    for msgid in ALL_IDS:
        stem, _, number = msgid.rpartition(".")
        if number.isdigit():
            stems.setdefault(stem, set()).add(int(number))
    for stem, numbers in stems.items():
        assert numbers == set(range(1, len(numbers) + 1)), stem


def test_the_missing_message_check_would_catch_a_missing_or_empty_entry(tmp_path: Path) -> None:
    po = tmp_path / "x.po"
    po.write_text('msgid "a"\nmsgstr "A"\n\nmsgid "b"\nmsgstr ""\n', encoding="utf-8")
    assert read_po(po) == {"a": "A"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_committed_mo_files_match_their_po(lang: str, tmp_path: Path) -> None:
    fresh = tmp_path / "webops.mo"
    fresh.write_bytes(mo_bytes(read_po(PO[lang])))
    assert fresh.read_bytes() == PO[lang].with_suffix(".mo").read_bytes(), (
        "stale .mo: run python -m agent.social.language.msgfmt"
    )


def test_the_rebuild_entry_point_finds_nothing_stale() -> None:
    assert msgfmt.main(["--check"]) == 0


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiler_agrees_byte_for_byte_with_gnu_msgfmt(lang: str, tmp_path: Path) -> None:
    gnu = tmp_path / "gnu.mo"
    subprocess.run(
        ["msgfmt", "--check", "--no-hash", "-o", str(gnu), str(PO[lang])],
        check=True,
        capture_output=True,
    )
    assert gnu.read_bytes() == PO[lang].with_suffix(".mo").read_bytes()


SAMPLE_PO = r"""# a comment
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"

#. translator note
msgid "plain"
msgstr "Grüße"

msgid "escaped"
msgstr "say \"hi\"\tthen\\leave\n"

msgid "multi"
msgstr ""
"one "
"two"

#, fuzzy
msgid "fuzzy"
msgstr "not yet"

msgid "empty"
msgstr ""

msgctxt "menu"
msgid "plain"
msgstr "Menü"
"""


def test_a_compiled_po_is_a_gnu_mo_that_gettext_reads(tmp_path: Path) -> None:
    po, mo = tmp_path / "s.po", tmp_path / "s.mo"
    po.write_text(SAMPLE_PO, encoding="utf-8")
    mo.write_bytes(mo_bytes(read_po(po)))
    data = mo.read_bytes()
    assert int.from_bytes(data[:4], "little") == 0x950412DE
    catalogue = gettext.GNUTranslations(io.BytesIO(data))
    assert catalogue.gettext("plain") == "Grüße"
    assert catalogue.gettext("escaped") == 'say "hi"\tthen\\leave\n'
    assert catalogue.gettext("multi") == "one two"
    assert catalogue.gettext("fuzzy") == "fuzzy"  # fuzzy entries are left out, as GNU does
    assert catalogue.gettext("empty") == "empty"
    assert catalogue.pgettext("menu", "plain") == "Menü"


def test_mo_tables_are_sorted_by_original() -> None:
    data = mo_bytes({"b": "2", "a": "1", "": "h"})
    count, originals = int.from_bytes(data[8:12], "little"), int.from_bytes(data[12:16], "little")
    keys = []
    for i in range(count):
        length = int.from_bytes(data[originals + 8 * i : originals + 8 * i + 4], "little")
        offset = int.from_bytes(data[originals + 8 * i + 4 : originals + 8 * i + 8], "little")
        keys.append(data[offset : offset + length])
    assert keys == [b"", b"a", b"b"]


@pytest.mark.parametrize(
    "text",
    [
        'msgid "a"\nmsgid_plural "as"\nmsgstr[0] "x"\n',
        'msgid "a"\nmsgstr "bad \\q escape"\n',
        'msgid "a"\n',
        'msgid "a"\nmsgstr "A"\n\nmsgid "a"\nmsgstr "B"\n',
        '"orphan"\n',
        'msgid a\nmsgstr "A"\n',
    ],
)
def test_malformed_po_is_refused(text: str, tmp_path: Path) -> None:
    po = tmp_path / "bad.po"
    po.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput):
        read_po(po)


def test_unknown_language_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="en, de, fr"):
        translator("xx")
    with pytest.raises(InvalidInput):
        translate("reply.help.core.1", "klingon")


def test_language_tags_are_reduced_to_the_language() -> None:
    assert translator("de_DE.UTF-8").lang == "de"
    assert translator("FR-ca").lang == "fr"


def test_english_goes_through_the_catalogue_too() -> None:
    en = translator("en")
    assert en.has("reply.help.core.1")
    assert en.translate("reply.check_ok.core.1", target="shop", latency="12") == (
        "shop looks healthy (12 ms)."
    )


# Whole sentences (short interjections such as "Okay!" may rightly be the same in German).
SAMPLES = [
    m
    for m in ALL_IDS
    if m.startswith(("reply.", "clarify.")) and not MESSAGES["en"][m].startswith(("{", "#"))
]


@pytest.mark.parametrize("lang", ["de", "fr"])
def test_german_and_french_differ_from_english(lang: str) -> None:
    assert len(SAMPLES) > 50
    same = [m for m in SAMPLES if translate(m, lang) == translate(m, "en")]
    assert not same, same
    assert translate("reply.help.core.1", lang, targets="shop") != translate(
        "reply.help.core.1", "en", targets="shop"
    )


def test_a_missing_param_stays_visible_instead_of_crashing() -> None:
    assert translate("reply.check_ok.core.1", "en", target="shop") == (
        "shop looks healthy ({latency} ms)."
    )


def test_catalog_import_stays_light() -> None:
    code = (
        "import sys, agent.social.language.catalog, agent.social.language.understand, "
        "agent.social.language.generate\n"
        "bad = {'textual', 'typer', 'sqlalchemy', 'sqlmodel', 'widgets', 'webops_tui'}\n"
        "print(sorted(bad & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
