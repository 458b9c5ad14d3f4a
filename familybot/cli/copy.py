"""`familybot db copy --to TARGET`: move an install between SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from familybot.cli import EXIT_CONFIG
from familybot.config import Settings

SQLITE_PREFIX = "sqlite:///"


def sqlite_target(raw: str) -> Path:
    """sqlite:///relative.db, sqlite:////absolute.db (as SQLAlchemy writes them) or a path."""
    return Path(raw[len(SQLITE_PREFIX) :] if raw.startswith(SQLITE_PREFIX) else raw)


def cmd_db_copy(settings: Settings, to: str) -> int:
    from familybot.db.base import is_postgres_url
    from familybot.db.copy import CopyError, copy_postgres_to_sqlite, copy_sqlite_to_postgres
    from familybot.db.postgres import redact

    to_postgres = is_postgres_url(to)
    if settings.database_url and to_postgres:
        print(
            "DATABASE_URL is set, so this install is already on PostgreSQL. To copy one "
            "PostgreSQL database to another, use `familybot backup` here and `familybot "
            "restore` with DATABASE_URL pointing at the other (or pg_dump / pg_restore).",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    if not settings.database_url and not to_postgres:
        print(
            "This install is on SQLite (DATABASE_PATH; DATABASE_URL is empty), so there is "
            "nothing to copy into another SQLite file: use `familybot backup PATH` for that. "
            "To move to PostgreSQL: familybot db copy --to postgresql://user@host:5432/dbname",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    if to_postgres:
        what = f"{settings.database_path} (SQLite) into {redact(to)} (PostgreSQL)"
    else:
        what = f"{redact(str(settings.database_url))} (PostgreSQL) into {sqlite_target(to)}"
    print(f"Copying {what} ...")
    try:
        if to_postgres:
            report = asyncio.run(copy_sqlite_to_postgres(settings.database_path, to))
        else:
            assert settings.database_url is not None
            report = asyncio.run(copy_postgres_to_sqlite(settings.database_url, sqlite_target(to)))
    except CopyError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    width = max(len(name) for name, _ in report.counts)
    print(f"  {'table'.ljust(width)}  rows (the same on both sides)")
    for name, rows in report.counts:
        print(f"  {name.ljust(width)}  {rows:>6}  ✓")
    print(
        f"✓ Copied {len(report.counts)} tables, {report.rows} rows (schema version "
        f"{report.schema_version}); every table's row count matches the source's."
    )
    if to_postgres:
        print(f"  Counters: {report.counters} id sequences continue after the highest id copied.")
    if report.left_out:
        print(
            "  Only in the source, not copied (its own machinery, such as SQLite's search "
            f"index; the target does without them): {', '.join(report.left_out)}."
        )
    if report.rebuilt:
        print(
            "  Only in the target (its own machinery, filled by the target itself, e.g. "
            f"SQLite's search index from the copied resources): {', '.join(report.rebuilt)}."
        )
    print("Next steps:")
    if to_postgres:
        print(f"  1. Put DATABASE_URL={redact(to)} into .env (with its password).")
    else:
        print(f"  1. Empty DATABASE_URL in .env and set DATABASE_PATH={sqlite_target(to)}.")
    print("  2. Run `familybot check`, then start the bot. The old database is left as it was.")
    return 0
