"""Private files: the database, its -wal and -shm, backups and their folders.

Everything FamilyBot writes holds what families told it, so files are created 0600 and
folders 0700 whatever the process umask (umask can only take bits away, so the mode is set
explicitly after creating). SQLite gives a database's -wal and -shm the database file's own
mode, so creating the database file 0600 before SQLite opens it covers those too.

Files and folders that already exist with looser modes are tightened at start when this
user owns them (`tighten_install`); `familybot check` names any that are still loose
(`permission_warnings`). The backup folder (BACKUP_DIR) is FamilyBot's and is tightened to
0700 too; the database's own folder may be the install folder, so it is left alone: the file
modes are what keep the data private there.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
# Any of these bits lets someone other than the owner read, write or list.
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def make_private_dir(folder: Path) -> None:
    """Create folder (and missing parents) readable by this user only; existing ones stay."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # made meanwhile by someone else: leave its mode alone
            continue
        os.chmod(path, PRIVATE_DIR)


def create_private_file(path: Path) -> None:
    """Create an empty file 0600 unless it exists (SQLite then fills it as a new database)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def database_files(db_path: Path) -> list[Path]:
    """The database and the files SQLite keeps beside it in WAL mode."""
    return [db_path] + [db_path.with_name(db_path.name + s) for s in ("-wal", "-shm")]


# How FamilyBot names its backups (familybot/backup.py makes them): here, beside the
# database's own files, so the permission check below knows both without importing backup.
BACKUP_NAME_RE = re.compile(r"^familybot-\d{8}-\d{6}\.(db|dump)(\.enc)?$")
# A plain backup's checksum lives beside it as BACKUP.sha256, in `sha256sum` format, so the
# backup stays an ordinary SQLite file and `sha256sum -c` can verify it too.
CHECKSUM_SUFFIX = ".sha256"


def is_backup_file(name: str) -> bool:
    """A backup FamilyBot names by time, or its checksum file."""
    return bool(BACKUP_NAME_RE.match(name.removesuffix(CHECKSUM_SUFFIX)))


def backup_files(folder: Path) -> list[Path]:
    """FamilyBot's backups (and their checksum files) in folder."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and is_backup_file(p.name))


@dataclass(frozen=True)
class LoosePath:
    path: Path
    mode: int
    is_dir: bool

    @property
    def wanted(self) -> int:
        return PRIVATE_DIR if self.is_dir else PRIVATE_FILE

    def warning(self) -> str:
        kind = "folder" if self.is_dir else "file"
        return (
            f"⚠ The {kind} {self.path} can be read by other users on this machine "
            f"(mode {self.mode:04o}): run `chmod {self.wanted:o} {self.path}`."
        )


def _loose(path: Path) -> LoosePath | None:
    try:
        st = path.stat()
    except OSError:  # absent (no -wal while the bot is stopped) or unreadable: nothing to say
        return None
    mode = stat.S_IMODE(st.st_mode)
    if not mode & _OTHERS:
        return None
    return LoosePath(path, mode, stat.S_ISDIR(st.st_mode))


def loose_paths(db_path: Path, backup_dir: Path) -> list[LoosePath]:
    """Database files, the backup folder and its backups that others can read."""
    candidates = [*database_files(db_path), backup_dir, *backup_files(backup_dir)]
    return [found for path in candidates if (found := _loose(path)) is not None]


def permission_warnings(db_path: Path, backup_dir: Path) -> list[str]:
    return [found.warning() for found in loose_paths(db_path, backup_dir)]


def tighten_install(db_path: Path, backup_dir: Path) -> list[LoosePath]:
    """At start: make loose database and backup files private when this user owns them.

    Returns what was tightened. Files owned by someone else are left as they are (we may
    not change them, and an admin may have chosen that) and logged; `check` names them.
    """
    tightened: list[LoosePath] = []
    for found in loose_paths(db_path, backup_dir):
        try:
            owner = found.path.stat().st_uid
            if owner != os.geteuid():
                raise PermissionError
            os.chmod(found.path, found.wanted)
        except OSError:
            log.warning(
                "cannot make private path=%s mode=%04o: run chmod %o on it",
                found.path,
                found.mode,
                found.wanted,
            )
            continue
        log.info(
            "made private path=%s mode_was=%04o mode=%04o", found.path, found.mode, found.wanted
        )
        tightened.append(found)
    return tightened
