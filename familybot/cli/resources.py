"""`familybot resources import`: load vetted resources from a file."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from familybot.cli import EXIT_CONFIG
from familybot.clock import SystemClock
from familybot.config import Settings


def cmd_resources_import(settings: Settings, path: Path, guild: int | None, dry_run: bool) -> int:
    guild_id = guild or settings.dev_guild_id
    if not guild_id:
        print("Please say which server with --guild ID (the server's id).", file=sys.stderr)
        return EXIT_CONFIG
    if not path.is_file():
        print(f"There is no file at {path}.", file=sys.stderr)
        return EXIT_CONFIG

    async def go() -> int:
        from familybot.db.connection import Database, DatabaseUnavailable
        from familybot.db.migrate import migrate
        from familybot.db.repositories.resources import ResourceRepository
        from familybot.services.resources.importer import (
            ImportFileError,
            import_resources,
            read_rows,
        )

        try:
            rows = read_rows(path)
        except ImportFileError as exc:
            print(f"✗ {exc.message}", file=sys.stderr)
            print("Nothing was imported.", file=sys.stderr)
            return 1
        try:
            db = await Database.connect(settings.database_target)
        except DatabaseUnavailable as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_CONFIG
        try:
            await migrate(db)
            report = await import_resources(
                db,
                guild_id,
                rows,
                now=SystemClock().now(),
                dry_run=dry_run,
                allow_http=await ResourceRepository(db).allow_http(guild_id),
            )
        finally:
            await db.close()
        for error in report.errors:
            print(f"✗ {path}, {error}", file=sys.stderr)
        if report.errors:
            print(
                f"Nothing was imported: {len(report.errors)} row(s) need fixing.", file=sys.stderr
            )
            return 1
        if not report.valid:
            print(f"✗ {path}: there are no resources in it. Nothing was imported.", file=sys.stderr)
            return 1
        new = len(report.valid) - report.present
        if dry_run:
            print(
                f"✓ All {len(report.valid)} resources are valid (dry run: nothing written): "
                f"{new} would be added, {report.present} already present."
            )
        else:
            print(f"✓ Server {guild_id}: {report.written} added, {report.present} already present.")
        return 0

    try:
        return asyncio.run(go())
    except Exception as exc:  # one line, never a traceback; the import is one transaction
        print(
            f"✗ Could not import {path} ({type(exc).__name__}). Nothing was imported.",
            file=sys.stderr,
        )
        return 1
