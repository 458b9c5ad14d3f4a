"""What every backup shares, SQLite's (familybot/backup.py) and PostgreSQL's (backup_pg.py):
private temporary files, the checksum file or the encryption (BACKUP_KEY) that vouches for
a backup, and reading a backup back only after one of them did."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from familybot.files import CHECKSUM_SUFFIX, PRIVATE_FILE

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"  # pg_dump's custom format (familybot/backup_pg.py)
_CHECKSUM_RE = re.compile(r"^([0-9a-f]{64})\s")


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


def new_key() -> str:
    """A fresh key for BACKUP_KEY."""
    return Fernet.generate_key().decode("ascii")


def validate_key(key: str) -> None:
    """Raise ValueError when key is not a usable BACKUP_KEY."""
    Fernet(key.encode("ascii"))


def checksum_path(backup: Path) -> Path:
    return backup.with_name(backup.name + CHECKSUM_SUFFIX)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_checksum(sidecar: Path, backup: Path) -> str:
    try:
        match = _CHECKSUM_RE.match(sidecar.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError):
        match = None
    if match is None:
        raise BackupError(
            f"The checksum file {sidecar} is damaged, so {backup} cannot be checked. "
            "Nothing was changed. Try another backup."
        )
    return match[1]


@contextlib.contextmanager
def private_temp(folder: Path, suffix: str) -> Iterator[Path]:
    """An empty file readable by its owner only, removed afterwards unless moved away."""
    fd, name = tempfile.mkstemp(prefix=".familybot-", suffix=suffix, dir=folder)
    os.close(fd)
    path = Path(name)
    os.chmod(path, PRIVATE_FILE)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise BackupError(
            "BACKUP_KEY is not a valid key. Create one with `familybot backup --new-key`."
        ) from exc


def seal_backup(plain: Path, dest: Path, key: str | None) -> None:
    """Move a checked backup into place: encrypted with key, else with its checksum file."""
    sidecar = checksum_path(dest)
    if key:
        fernet = _fernet(key)
        with private_temp(dest.parent, ".enc") as sealed:
            sealed.write_bytes(fernet.encrypt(plain.read_bytes()))
            os.replace(sealed, dest)
        sidecar.unlink(missing_ok=True)  # a stale one from a plain backup of this name
    else:
        digest = _sha256_of(plain)
        os.replace(plain, dest)
        with private_temp(dest.parent, CHECKSUM_SUFFIX) as written:
            written.write_text(f"{digest}  {dest.name}\n", encoding="ascii")
            os.replace(written, sidecar)
    os.chmod(dest, PRIVATE_FILE)


UNVERIFIED_HINT = (
    "If it is a backup made by an older FamilyBot (before checksums), run the restore again "
    "with --unverified to restore it after integrity and schema checks."
)


def read_verified(src: Path, key: str | None, unverified: bool) -> bytes:
    """The backup's plain bytes, after its checksum file or its encryption vouched for them."""
    data = src.read_bytes()
    sidecar = checksum_path(src)
    verified = False
    if sidecar.exists():
        if hashlib.sha256(data).hexdigest() != _read_checksum(sidecar, src):
            raise BackupError(
                f"{src} does not match its checksum ({sidecar.name}): the file is damaged or "
                "was changed after the backup. Nothing was changed. Try another backup."
            )
        verified = True
    if not data.startswith((SQLITE_MAGIC, PG_DUMP_MAGIC)):
        if not key:
            raise BackupError(
                f"{src} is encrypted (or is not a FamilyBot backup). Set BACKUP_KEY in .env to "
                "the key that was in use when the backup was made, then try again."
            )
        try:
            data = _fernet(key).decrypt(data)  # Fernet refuses any changed byte
        except InvalidToken as exc:
            raise BackupError(
                f"BACKUP_KEY does not open {src}: it was made with a different key, or the "
                "file is damaged. Nothing was changed. Put the key that was in use when the "
                "backup was made into BACKUP_KEY and try again."
            ) from exc
        verified = True
    if not verified and not unverified:
        raise BackupError(
            f"{src} has no checksum file ({sidecar.name}) beside it, so FamilyBot cannot tell "
            "whether it is intact. Nothing was changed. Copy the .sha256 file that was made "
            f"with it into the same folder and try again. {UNVERIFIED_HINT}"
        )
    return data
