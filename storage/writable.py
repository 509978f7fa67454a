"""Why a database cannot be written, told apart from damage.

SQLite says "unable to open database file" when the folder is read-only (even a reader of a WAL
database writes its `-shm` beside it) and "attempt to write a readonly database" when the file
is; neither names the place or the cause, and the first was reported as a damaged file (issue
18). `access(2)` answers without writing a byte, for root too on a read-only file system, and
`statvfs` tells a read-only file system from missing permission.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_refusal(database: Path) -> str | None:
    """'cannot write PLACE: REASON' for the database's folder or file, or None when both can be
    written (the problem, if any, is elsewhere)."""
    places = [database.parent] + ([database] if database.exists() else [])
    for place in places:
        if not os.access(place, os.W_OK):
            return f"cannot write {place}: {_reason(place)}"
    return None


def _reason(place: Path) -> str:
    try:
        read_only = bool(os.statvfs(place).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        return "read-only file system"
    return "permission denied"


def unwritable_now(database: Path) -> str | None:
    """Why the database could not be written now, or None; for a health probe on an open file.

    An open SQLite connection keeps writing through its descriptor after `chmod 444`, so the
    first sign is the next process that fails to open the file: this looks at the file, its
    `-wal` and `-shm` and the folder. `access(2)` alone says yes to root, who ignores
    permission bits, so no write bit at all counts as unwritable too (an operator who clears
    them means "do not write"). Names what is wrong, never the path (the probe answers anyone).
    """
    places = [
        ("folder", database.parent),
        ("file", database),
        ("-wal file", Path(f"{database}-wal")),
        ("-shm file", Path(f"{database}-shm")),
    ]
    for what, place in places:
        try:
            mode = place.stat().st_mode
        except FileNotFoundError:
            if what == "file":
                return "the database file is missing"
            continue
        except OSError as exc:
            return f"cannot look at the database {what}: {exc.strerror}"
        if not mode & 0o222:
            return f"the database {what} is read-only (mode {mode & 0o777:04o})"
        if not os.access(place, os.W_OK):
            return f"cannot write the database {what}: {_reason(place)}"
    return None
