"""The daily backup job: into BACKUP_DIR, keeping BACKUP_KEEP, on either backend.

SQLite: the online backup API in a thread (familybot.backup). PostgreSQL: pg_dump
(familybot.backup_pg), with the same folder, checksums or key, and retention. A failure is
logged (its kind, never its text) and the bot goes on.
"""

from __future__ import annotations

import asyncio
import logging

from familybot.config import Settings

log = logging.getLogger(__name__)


async def daily_backup(settings: Settings) -> None:
    from familybot.backup import scheduled_backup
    from familybot.backup_pg import scheduled_pg_backup

    try:
        if settings.database_url:
            result = await scheduled_pg_backup(
                settings.database_url,
                settings.backup_dir,
                settings.backup_key,
                settings.backup_keep,
            )
        else:
            result = await asyncio.to_thread(
                scheduled_backup,
                settings.database_path,
                settings.backup_dir,
                settings.backup_key,
                settings.backup_keep,
            )
    except Exception as exc:
        log.error(
            "scheduled backup failed dir=%s error=%s", settings.backup_dir, type(exc).__name__
        )
        return
    log.info("scheduled backup written path=%s bytes=%d", result.path, result.size)
