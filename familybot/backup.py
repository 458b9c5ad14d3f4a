"""Backups of the SQLite database: online copy, integrity check, optional encryption, restore.

Blocking on purpose (plain sqlite3 and file I/O): the bot calls these through
asyncio.to_thread, the CLI calls them directly. Nothing here imports discord.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

SQLITE_MAGIC = b"SQLite format 3\x00"
BACKUP_NAME_RE = re.compile(r"^familybot-\d{8}-\d{6}\.db(\.enc)?$")


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    encrypted: bool
    size: int
    schema_version: int


@dataclass(frozen=True)
class RestoreResult:
    db_path: Path
    previous: Path | None  # the database that was replaced, kept beside it
    schema_version: int


def new_key() -> str:
    """A fresh key for BACKUP_KEY."""
    return Fernet.generate_key().decode("ascii")


def validate_key(key: str) -> None:
    """Raise ValueError when key is not a usable BACKUP_KEY."""
    Fernet(key.encode("ascii"))


def backup_filename(now: datetime, encrypted: bool) -> str:
    return f"familybot-{now:%Y%m%d-%H%M%S}.db" + (".enc" if encrypted else "")


def _latest_schema() -> int:
    from familybot.db.migrate import available_migrations

    migrations = available_migrations()
    return migrations[-1].number if migrations else 0


@contextlib.contextmanager
def _private_temp(folder: Path, suffix: str) -> Iterator[Path]:
    """An empty file readable by its owner only, removed afterwards unless moved away."""
    fd, name = tempfile.mkstemp(prefix=".familybot-", suffix=suffix, dir=folder)
    os.close(fd)
    path = Path(name)
    os.chmod(path, 0o600)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _check_copy(path: Path) -> int:
    """integrity_check on a plain database file; return its schema version."""
    try:
        conn = sqlite3.connect(path)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database ({exc}).") from exc
    if result != ["ok"]:
        raise BackupError(f"The integrity check failed: {'; '.join(result[:3])}.")
    return version


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise BackupError(
            "BACKUP_KEY is not a valid key. Create one with `familybot backup --new-key`."
        ) from exc


def create_backup(
    db_path: Path, dest: Path, key: str | None = None, *, now: datetime | None = None
) -> BackupResult:
    """Copy db_path (safe while the bot writes) to dest, a file or an existing folder."""
    if not db_path.is_file():
        raise BackupError(f"There is no database at {db_path}. Check DATABASE_PATH.")
    encrypted = bool(key)
    if dest.is_dir():
        dest = dest / backup_filename(now or datetime.now(UTC), encrypted)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"Cannot create the folder {dest.parent}: {exc.strerror}.") from exc
    with _private_temp(dest.parent, ".db") as plain:
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
        version = _check_copy(plain)
        if key:
            fernet = _fernet(key)
            with _private_temp(dest.parent, ".enc") as sealed:
                sealed.write_bytes(fernet.encrypt(plain.read_bytes()))
                os.replace(sealed, dest)
        else:
            os.replace(plain, dest)
    os.chmod(dest, 0o600)
    return BackupResult(dest, encrypted, dest.stat().st_size, version)


def _wal_paths(db_path: Path) -> list[Path]:
    return [db_path.with_name(db_path.name + suffix) for suffix in ("-wal", "-shm")]


def restore_backup(
    src: Path,
    db_path: Path,
    key: str | None = None,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> RestoreResult:
    """Replace db_path with the backup src after checking it; keep the old database beside it.

    A -wal file beside the database means a connection is open (the bot, most likely) or the
    bot did not shut down cleanly: SQLite removes it when the last connection closes. Either
    way we refuse unless force is given, so a running bot never has its file swapped away.
    """
    if not src.is_file():
        raise BackupError(f"There is no backup file at {src}.")
    wal = _wal_paths(db_path)[0]
    if wal.exists() and not force:
        raise BackupError(
            f"{wal} exists, so the bot seems to be running (or did not stop cleanly). "
            "Stop the bot first, then try again. If it is stopped, add --force: the current "
            "database and its -wal file are kept beside it."
        )
    data = src.read_bytes()
    if not data.startswith(SQLITE_MAGIC):
        if not key:
            raise BackupError(
                f"{src} is encrypted (or is not a FamilyBot backup). Set BACKUP_KEY in .env to "
                "the key that was in use when the backup was made, then try again."
            )
        fernet = _fernet(key)
        try:
            data = fernet.decrypt(data)
        except InvalidToken as exc:
            raise BackupError(
                f"BACKUP_KEY does not open {src}: it was made with a different key, or the "
                "file is damaged. Nothing was changed. Put the key that was in use when the "
                "backup was made into BACKUP_KEY and try again."
            ) from exc
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"Cannot create the folder {db_path.parent}: {exc.strerror}.") from exc
    with _private_temp(db_path.parent, ".restore") as staged:
        staged.write_bytes(data)
        version = _check_copy(staged)
        latest = _latest_schema()
        if version > latest:
            raise BackupError(
                f"{src} has schema version {version}, newer than this FamilyBot knows "
                f"({latest}). Upgrade FamilyBot first, then restore. Nothing was changed."
            )
        previous: Path | None = None
        if db_path.exists():
            stamp = f"{now or datetime.now(UTC):%Y%m%d-%H%M%S}"
            previous = db_path.with_name(f"{db_path.name}.before-restore-{stamp}")
            os.replace(db_path, previous)
            # SQLite finds a database's -wal by name: keep them paired under the new name.
            for extra, suffix in zip(_wal_paths(db_path), ("-wal", "-shm"), strict=True):
                if extra.exists():
                    os.replace(extra, previous.with_name(previous.name + suffix))
        else:
            for extra in _wal_paths(db_path):
                extra.unlink(missing_ok=True)
        os.replace(staged, db_path)
    return RestoreResult(db_path, previous, version)


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
    return doomed


def scheduled_backup(db_path: Path, folder: Path, key: str | None, keep: int) -> BackupResult:
    """The daily job: a new backup into folder, then keep only the newest `keep`."""
    folder.mkdir(parents=True, exist_ok=True)
    result = create_backup(db_path, folder, key)
    prune_backups(folder, keep)
    return result
