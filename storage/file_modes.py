"""Private files: the database, its `-wal`/`-shm` and the key are 0600 in a 0700 folder.

On a shared jump host every local user could read chat, audit and memory from a 0644 file, so
what webops creates is private from its first byte: the database file is created 0600 before
SQLite opens it (SQLite gives `-wal` and `-shm` the mode of their database), the key is written
0600, a folder we create is 0700. Files and folders that already exist are the user's: a looser
one is named on stderr with the command that tightens it, and never changed behind their back
(a folder may be shared on purpose, e.g. a team's data folder or /tmp).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path

from storage.errors import StorageError

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def make_private_folder(folder: Path) -> None:
    """Create `folder` (and missing parents) with the folder itself 0700, whatever the umask."""
    if folder.is_dir():
        return
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(FOLDER_MODE)


def create_private_file(path: Path) -> None:
    """Create `path` empty and 0600 unless it exists; an existing file is left as it is."""
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)  # defeat a umask that would clear the owner's bits
        finally:
            os.close(fd)


#: Paths already warned about in this process: a command opens the database more than once.
_warned: set[Path] = set()


def forget_warnings() -> None:
    """A new command starts: its loose files are named again (the CLI's `main`)."""
    _warned.clear()


def warn_if_loose(*paths: Path) -> list[str]:
    """One stderr line (once per process) for each existing path that group or others may use;
    returns them."""
    lines = []
    for path in paths:
        if path in _warned:
            continue
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if not mode & 0o077:
            continue
        wanted = FOLDER_MODE if path.is_dir() else FILE_MODE
        what = "folder" if path.is_dir() else "file"
        _warned.add(path)
        lines.append(
            f"webops: warning: {what} {path} is open to other local users (mode {mode:04o}); "
            f"`chmod {wanted:o} {path}` makes it private"
        )
    for line in lines:
        sys.stderr.write(line + "\n")
    return lines


def create_once(path: Path, content: bytes, what: str) -> bool:
    """Write `content` to `path` (mode 0600) unless a file is there already; True if written.

    Written and synced under a temporary name first, so `path` never holds a partial key. It
    is then hard-linked into place: unlike `os.replace`, a link fails when `path` exists, so
    two processes creating a key at once agree on the first one instead of the second silently
    replacing a key the first may already use. Keys (secrets, audit) are made this way.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise StorageError(f"cannot create {what} {path}: {exc.strerror or exc}") from exc
    temp = Path(temp_name)
    try:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, FILE_MODE)  # mkstemp already uses 0o600; this defeats a umask
            os.write(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        except OSError:
            # A file system without hard links: an atomic rename, checking first (a narrow
            # race remains there, but never a half-written key).
            if path.exists():
                return False
            os.replace(temp, path)
        return True
    except OSError as exc:
        raise StorageError(f"cannot create {what} {path}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
