"""`familybot migrate`, `backup` and `restore`: the SQLite file, or PostgreSQL via pg_dump."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from familybot.cli import EXIT_CONFIG
from familybot.config import Settings


def cmd_migrate(settings: Settings) -> int:
    async def go() -> int:
        from familybot.db.connection import Database, DatabaseUnavailable
        from familybot.db.migrate import current_version, migrate
        from familybot.files import tighten_install

        for found in tighten_install(settings.database_path, settings.backup_dir):
            print(f"made {found.path} private (mode {found.mode:04o} -> {found.wanted:04o})")
        try:
            db = await Database.connect(settings.database_target)
        except DatabaseUnavailable as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_CONFIG
        try:
            applied = await migrate(db)
            version = await current_version(db)
        except DatabaseUnavailable as exc:  # another program's database: left untouched
            print(str(exc), file=sys.stderr)
            return EXIT_CONFIG
        finally:
            await db.close()
        for m in applied:
            print(f"applied {m.number:04d}_{m.name}")
        print(f"Database {db.path} is at schema version {version}.")
        return 0

    return asyncio.run(go())


def backup_destination(raw: str | None, default_dir: Path) -> tuple[Path, bool]:
    """Where `familybot backup [PATH]` writes, and whether that is a folder.

    No path, a path ending in a slash, or an existing folder mean "a time-stamped file inside
    that folder" (created 0700 when missing); anything else is the backup file itself.
    (argparse's Path would drop the trailing slash, so the raw text is looked at.)
    """
    if raw is None:
        return default_dir, True
    path = Path(raw)
    return path, raw.endswith(("/", os.sep)) or path.is_dir()


def cmd_backup(settings: Settings, raw_path: str | None) -> int:
    from familybot.backup import BackupError, create_backup
    from familybot.files import make_private_dir

    dest, is_folder = backup_destination(raw_path, settings.backup_dir)
    source: Path | str = settings.database_path
    try:
        if is_folder:
            make_private_dir(dest)  # a folder: the file inside is named by the time
        if settings.database_url:
            from familybot.backup_pg import create_pg_backup
            from familybot.db.postgres import redact

            source = redact(settings.database_url)
            result = asyncio.run(create_pg_backup(settings.database_url, dest, settings.backup_key))
        else:
            result = create_backup(settings.database_path, dest, settings.backup_key)
    except BackupError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"✗ Could not write the backup to {dest}: {exc.strerror}.", file=sys.stderr)
        return 1
    how = "encrypted with BACKUP_KEY" if result.encrypted else "not encrypted"
    checked = "pg_dump custom format, read back" if settings.database_url else "integrity ok"
    print(
        f"✓ Backed up {source} to {result.path} ({result.size} bytes, "
        f"{checked}, schema version {result.schema_version}, {how})."
    )
    if not result.encrypted:
        print(f"  Its checksum is in {result.path.name}.sha256: keep the two files together.")
    return 0


def cmd_restore(settings: Settings, path: Path, force: bool, unverified: bool = False) -> int:
    from familybot.backup import BackupError, restore_backup

    if not path.is_file():
        print(f"There is no backup file at {path}.", file=sys.stderr)
        return EXIT_CONFIG
    try:
        if settings.database_url:
            from familybot.backup_pg import restore_pg_backup

            result = asyncio.run(
                restore_pg_backup(
                    path,
                    settings.database_url,
                    settings.backup_key,
                    settings.backup_dir,
                    force=force,
                    unverified=unverified,
                )
            )
        else:
            result = restore_backup(
                path,
                settings.database_path,
                settings.backup_key,
                force=force,
                unverified=unverified,
            )
    except BackupError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"✗ Could not restore {path}: {exc.strerror}. Nothing was changed.", file=sys.stderr)
        return 1
    checked = "checked with pg_restore" if settings.database_url else "integrity ok"
    print(
        f"✓ Restored {path} to {result.db_path} ({checked}, schema version {result.schema_version})."
    )
    if result.previous is not None:
        print(f"  The database it replaced is kept as {result.previous}.")
    print("  Run `familybot check`, then start the bot.")
    return 0
