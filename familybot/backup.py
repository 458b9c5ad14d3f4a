"""Backups of the SQLite database: online copy, integrity check, optional encryption, restore.

Blocking on purpose (plain sqlite3 and file I/O): the bot calls these through
asyncio.to_thread, the CLI calls them directly. Nothing here imports discord.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from familybot.backup_seal import (
    PG_DUMP_MAGIC,
    UNVERIFIED_HINT,
    BackupError,
    checksum_path,
    new_key,
    private_temp,
    read_verified,
    seal_backup,
    validate_key,
)
from familybot.files import (
    BACKUP_NAME_RE,
    PRIVATE_FILE,
    make_private_dir,
)

__all__ = [
    "UNVERIFIED_HINT",
    "BackupError",
    "BackupResult",
    "RestoreResult",
    "checksum_path",
    "create_backup",
    "new_key",
    "prune_backups",
    "restore_backup",
    "scheduled_backup",
    "validate_key",
]

# Tables every FamilyBot schema has had since 0001: how an unmarked old backup is recognised.
_FAMILYBOT_TABLES = ("guild_settings", "groups")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    encrypted: bool
    size: int
    schema_version: int


@dataclass(frozen=True)
class RestoreResult:
    db_path: Path | str  # a PostgreSQL URL without its password
    previous: Path | None  # the database that was replaced, kept beside it
    schema_version: int


def backup_filename(now: datetime, encrypted: bool, suffix: str = ".db") -> str:
    return f"familybot-{now:%Y%m%d-%H%M%S}{suffix}" + (".enc" if encrypted else "")


def _latest_schema() -> int:
    from familybot.db.migrate import available_migrations

    migrations = available_migrations()
    return migrations[-1].number if migrations else 0


def _application_id() -> int:
    from familybot.db.connection import APPLICATION_ID

    return APPLICATION_ID


@dataclass(frozen=True)
class _Checked:
    schema_version: int
    application_id: int
    looks_like_familybot: bool


def _check_copy(path: Path) -> _Checked:
    """integrity_check on a plain database file; what it says about itself."""
    try:
        conn = sqlite3.connect(path)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            tables = {
                row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database ({exc}).") from exc
    if result != ["ok"]:
        raise BackupError(f"The integrity check failed: {'; '.join(result[:3])}.")
    familybot_shaped = version >= 1 and all(t in tables for t in _FAMILYBOT_TABLES)
    return _Checked(version, app_id, familybot_shaped)


def _mark(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"PRAGMA application_id = {_application_id()}")
        conn.commit()
    finally:
        conn.close()


def create_backup(
    db_path: Path, dest: Path, key: str | None = None, *, now: datetime | None = None
) -> BackupResult:
    """Copy db_path (safe while the bot writes) to dest, a file or an existing folder.

    A plain backup gets a checksum file beside it (BACKUP.sha256) that restore verifies; an
    encrypted one needs none (Fernet authenticates it). Files are 0600, new folders 0700.
    """
    if not db_path.is_file():
        raise BackupError(f"There is no database at {db_path}. Check DATABASE_PATH.")
    encrypted = bool(key)
    if dest.is_dir():
        dest = dest / backup_filename(now or datetime.now(UTC), encrypted)
    try:
        make_private_dir(dest.parent)
    except OSError as exc:
        raise BackupError(f"Cannot create the folder {dest.parent}: {exc.strerror}.") from exc
    with private_temp(dest.parent, ".db") as plain:
        try:
            src = sqlite3.connect(db_path)
            try:
                dst = sqlite3.connect(plain)
                try:
                    src.backup(dst)  # one step: a consistent snapshot; writers are not blocked
                    # A backup is one self-contained file, without a -wal beside it.
                    dst.execute("PRAGMA journal_mode = DELETE")
                finally:
                    dst.close()
            finally:
                src.close()
        except sqlite3.Error as exc:
            raise BackupError(f"Could not copy the database {db_path}: {exc}.") from exc
        checked = _check_copy(plain)
        if checked.application_id == 0 and checked.looks_like_familybot:
            # Not migrated since FamilyBot began marking its databases: mark the copy, as
            # the next start will mark the database itself.
            _mark(plain)
        seal_backup(plain, dest, key)
    return BackupResult(dest, encrypted, dest.stat().st_size, checked.schema_version)


def _wal_paths(db_path: Path) -> list[Path]:
    return [db_path.with_name(db_path.name + suffix) for suffix in ("-wal", "-shm")]


def _kept_copy_name(db_path: Path, now: datetime) -> Path:
    """A name for the replaced database that no file (nor its -wal/-shm) has yet."""
    base = f"{db_path.name}.before-restore-{now:%Y%m%d-%H%M%S}"
    for n in range(1, 10_000):
        candidate = db_path.with_name(base if n == 1 else f"{base}-{n}")
        if not any(p.exists() for p in (candidate, *_wal_paths(candidate))):
            return candidate
    raise BackupError(f"Too many kept databases named {base} beside {db_path}; move some away.")


def restore_backup(
    src: Path,
    db_path: Path,
    key: str | None = None,
    *,
    force: bool = False,
    unverified: bool = False,
    now: datetime | None = None,
) -> RestoreResult:
    """Replace db_path with the backup src after checking it; keep the old database beside it.

    Checked before anything changes: the checksum file of a plain backup (or Fernet's
    authentication of an encrypted one), then integrity, FamilyBot's application_id and the
    schema version. `unverified` lets through a backup made before checksums and marks
    existed (no checksum file, application_id 0) when it has FamilyBot's tables.

    A -wal file beside the database means a connection is open (the bot, most likely) or the
    bot did not shut down cleanly: SQLite removes it when the last connection closes. Either
    way we refuse unless force is given, so a running bot never has its file swapped away.
    """
    if not src.is_file():
        raise BackupError(f"There is no backup file at {src}.")
    src_wal = _wal_paths(src)[0]
    if src_wal.exists() and src_wal.stat().st_size > 0:
        # Backups never have one; a kept copy from an earlier restore --force may: its latest
        # changes are in that file, and restoring the main file alone would drop them.
        raise BackupError(
            f"{src_wal} is beside {src}: some of its latest changes are in that file. Nothing "
            f'was changed. Fold them in first with `sqlite3 "{src}" "PRAGMA '
            'wal_checkpoint(TRUNCATE);"`, then restore again.'
        )
    wal = _wal_paths(db_path)[0]
    if wal.exists() and not force:
        raise BackupError(
            f"{wal} exists, so the bot seems to be running (or did not stop cleanly). "
            "Stop the bot first, then try again. If it is stopped, add --force: the current "
            "database and its -wal file are kept beside it."
        )
    data = read_verified(src, key, unverified)
    if data.startswith(PG_DUMP_MAGIC):
        raise BackupError(
            f"{src} is a PostgreSQL backup (pg_dump), but this install uses the SQLite file "
            "DATABASE_PATH. Set DATABASE_URL to the PostgreSQL database to restore it there. "
            "Nothing was changed."
        )
    try:
        make_private_dir(db_path.parent)
    except OSError as exc:
        raise BackupError(f"Cannot create the folder {db_path.parent}: {exc.strerror}.") from exc
    with private_temp(db_path.parent, ".restore") as staged:
        staged.write_bytes(data)
        checked = _check_copy(staged)
        ours = _application_id()
        if checked.application_id != ours:
            if checked.application_id != 0 or not checked.looks_like_familybot:
                raise BackupError(
                    f"{src} is not a FamilyBot database (it is some other SQLite file), so it "
                    "was not restored. Nothing was changed. Check the file name: FamilyBot's "
                    "backups are named familybot-YYYYmmdd-HHMMSS.db."
                )
            if not unverified:
                raise BackupError(
                    f"{src} carries no FamilyBot mark, so FamilyBot cannot be sure it is "
                    f"its own. Nothing was changed. {UNVERIFIED_HINT}"
                )
            _mark(staged)  # an old FamilyBot backup: marked as the next start would
        latest = _latest_schema()
        if checked.schema_version > latest:
            raise BackupError(
                f"{src} has schema version {checked.schema_version}, newer than this FamilyBot "
                f"knows ({latest}). Upgrade FamilyBot first, then restore. Nothing was changed."
            )
        _fsync(staged)
        previous: Path | None = None
        if db_path.exists():
            # The kept copy is made beside the live file (a second name for the same file,
            # or a copy) before anything moves: stopped at any point, DATABASE_PATH still
            # holds a database and the current one is kept whole.
            previous = _kept_copy_name(db_path, now or datetime.now(UTC))
            _keep(db_path, previous)
            # SQLite finds a database's -wal by name: keep them paired under the new name.
            for extra, kept in zip(_wal_paths(db_path), _wal_paths(previous), strict=True):
                if extra.exists():
                    _keep(extra, kept)
        # The old -wal must be gone before the new file takes the name, or SQLite would
        # replay it onto the restored database.
        for extra in _wal_paths(db_path):
            extra.unlink(missing_ok=True)
        os.replace(staged, db_path)  # atomic: the name always holds a whole database
        _fsync_dir(db_path.parent)
    return RestoreResult(db_path, previous, checked.schema_version)


def _keep(path: Path, kept: Path) -> None:
    """Give ``path`` a second name (a hard link; a private copy where links don't work)."""
    try:
        os.link(path, kept)
    except OSError:
        shutil.copy2(path, kept)
        os.chmod(kept, PRIVATE_FILE)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be synced
        _fsync(folder)


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` FamilyBot backups in folder; return the deleted."""
    if keep < 1 or not folder.is_dir():
        return []
    found = sorted(
        (p for p in folder.iterdir() if p.is_file() and BACKUP_NAME_RE.match(p.name)),
        key=lambda p: p.name.removesuffix(".enc"),
    )
    doomed = found[:-keep]
    for path in doomed:
        path.unlink(missing_ok=True)
        checksum_path(path).unlink(missing_ok=True)
    return doomed


def scheduled_backup(db_path: Path, folder: Path, key: str | None, keep: int) -> BackupResult:
    """The daily job: a new backup into folder, then keep only the newest `keep`."""
    make_private_dir(folder)
    result = create_backup(db_path, folder, key)
    prune_backups(folder, keep)
    return result
