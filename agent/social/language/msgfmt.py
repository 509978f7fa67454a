"""Compile gettext .po catalogues into GNU .mo files, so no external `msgfmt` is needed.

The .mo layout is GNU gettext's ("The Format of GNU MO Files", gettext manual 10.3): a header
with magic 0x950412de, then a table of (length, offset) pairs for the original strings sorted
by their bytes, a parallel table for the translations, and the NUL-terminated strings. No hash
table is written (size 0), which readers treat as "search the sorted table", and little-endian
is used on every platform so the committed files are byte-for-byte reproducible.

As GNU msgfmt does, fuzzy and untranslated (empty) entries are left out. Plural forms are not
supported (the agents' messages do not need them); `msgctxt` is.

Run `python -m agent.social.language.msgfmt` to rebuild every catalogue under `locale/`, or add
`--check` to only report the ones whose .mo is out of date (exit status 1).
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from agent.errors import InvalidInput

MAGIC = 0x950412DE
LOCALE_DIR = Path(__file__).parent / "locale"

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}
_ESCAPES |= {"f": "\f", "v": "\v"}


def _unquote(literal: str, where: str) -> str:
    """The value of one C-style quoted PO string, e.g. `"a\\"b"` -> `a"b`."""
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise InvalidInput(f"{where}: expected a quoted string, got {literal!r}")
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            if i + 1 == len(body) or body[i + 1] not in _ESCAPES:
                raise InvalidInput(f"{where}: bad escape in {literal!r}")
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        elif char == '"':
            raise InvalidInput(f"{where}: unescaped quote in {literal!r}")
        else:
            out.append(char)
            i += 1
    return "".join(out)


def read_po(po_path: Path) -> dict[str, str]:
    """The translated messages of a .po file as {msgid: msgstr}, header ("") included.

    A msgctxt is folded into the key as GNU does (`context + "\\x04" + msgid`).
    """
    messages: dict[str, str] = {}
    entry: dict[str, str] = {}
    field: str | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal entry, field, fuzzy
        if "msgid" in entry:
            if "msgstr" not in entry:
                raise InvalidInput(f"{po_path}: msgid {entry['msgid']!r} has no msgstr")
            key = entry["msgid"]
            if "msgctxt" in entry:
                key = f"{entry['msgctxt']}\x04{key}"
            if key in messages:
                raise InvalidInput(f"{po_path}: duplicate msgid {entry['msgid']!r}")
            if entry["msgstr"] and not fuzzy:
                messages[key] = entry["msgstr"]
        entry, field, fuzzy = {}, None, False

    lines = po_path.read_text(encoding="utf-8").splitlines()
    for number, raw in enumerate(lines, start=1):
        where = f"{po_path}:{number}"
        line = raw.strip()
        if line.startswith("#"):
            if field == "msgstr":
                flush()  # a comment after a complete entry starts the next one
            if line.startswith("#,") and "fuzzy" in {f.strip() for f in line[2:].split(",")}:
                fuzzy = True
            continue
        if not line:
            flush()
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.startswith('"'):
            if field is None:
                raise InvalidInput(f"{where}: a string continues nothing")
            entry[field] += _unquote(line, where)
        elif keyword in ("msgctxt", "msgid", "msgstr"):
            if keyword in ("msgctxt", "msgid") and field == "msgstr":
                flush()
            if keyword in entry:
                raise InvalidInput(f"{where}: {keyword} given twice in one entry")
            field = keyword
            entry[field] = _unquote(rest.strip(), where)
        elif keyword.startswith(("msgid_plural", "msgstr[")):
            raise InvalidInput(f"{where}: plural forms are not supported")
        else:
            raise InvalidInput(f"{where}: unexpected {keyword!r}")
    flush()
    return messages


def mo_bytes(messages: dict[str, str]) -> bytes:
    """The GNU .mo image of {msgid: msgstr}."""
    pairs = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in messages.items())
    count = len(pairs)
    originals_at = 7 * 4
    translations_at = originals_at + count * 8
    data_at = translations_at + count * 8  # hash table size 0: the strings follow directly
    header = struct.pack("<7I", MAGIC, 0, count, originals_at, translations_at, 0, data_at)
    table_o: list[bytes] = []
    table_t: list[bytes] = []
    data = bytearray()
    for column, table in ((0, table_o), (1, table_t)):
        for pair in pairs:
            text = pair[column]
            table.append(struct.pack("<2I", len(text), data_at + len(data)))
            data += text + b"\0"
    return header + b"".join(table_o) + b"".join(table_t) + bytes(data)


def catalogues(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Every .po file under `locale_dir`, in a stable order."""
    return sorted(locale_dir.glob("*/LC_MESSAGES/*.po"))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    stale = []
    for po_path in catalogues():
        mo_path = po_path.with_suffix(".mo")
        image = mo_bytes(read_po(po_path))
        if mo_path.exists() and mo_path.read_bytes() == image:
            continue
        stale.append(mo_path)
        if not check:
            mo_path.write_bytes(image)
    for mo_path in stale:
        print(f"{'stale' if check else 'wrote'} {mo_path}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except InvalidInput as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise SystemExit(2) from None
