"""Numbered SQL migrations, each in one transaction.

SQLite's are in migrations/ and tracked in PRAGMA user_version; PostgreSQL's are in
migrations/postgres/ with the same numbers and names, tracked in the schema_version table.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

from familybot.db.connection import APPLICATION_ID as APPLICATION_ID  # re-exported
from familybot.db.connection import (
    Database,
    NotFamilyBotDatabase,
    SqliteDatabase,
    as_postgres,
)

if TYPE_CHECKING:
    from familybot.db.postgres import PostgresDatabase

log = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    source: Traversable | str = field(repr=False, compare=False)  # its file, or the SQL

    @property
    def sql(self) -> str:
        """Read when needed: starting on an up-to-date database reads no migration file
        (issue 15: after a reboot each file is a disk read before the bot is ready)."""
        if isinstance(self.source, str):
            return self.source
        return self.source.read_text(encoding="utf-8")


def available_migrations(dialect: str = "sqlite") -> list[Migration]:
    folder = resources.files("familybot.db") / "migrations"
    if dialect == "postgresql":
        folder = folder / "postgres"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME_RE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"Migrations must be numbered 1..n without gaps, found {numbers}")
    return found


async def current_version(db: Database) -> int:
    return await db.schema_version()


async def mark_as_familybot(db: Database) -> None:
    """Give the database FamilyBot's application_id; refuse another program's database."""
    found = await db.application_id()
    if found == APPLICATION_ID:
        return
    if found == -1:
        raise NotFamilyBotDatabase(
            f"The database at {db.path} already holds another program's tables, so "
            "FamilyBot leaves it alone. Give FamilyBot an empty database of its own."
        )
    if found != 0:
        raise NotFamilyBotDatabase(
            f"The database at {db.path} belongs to another program (application_id "
            f"{found:#x}, not FamilyBot's), so FamilyBot leaves it alone."
        )
    pg = as_postgres(db)
    if pg is not None:
        await pg.mark_as_familybot()
    else:
        await db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    log.info("database marked as familybot application_id=%#x", APPLICATION_ID)


async def migrate(db: Database) -> list[Migration]:
    """Apply every migration newer than the database; return the ones applied."""
    pg = as_postgres(db)
    if pg is not None:
        return await _migrate_postgres(pg)
    await mark_as_familybot(db)
    version = await current_version(db)
    migrations = available_migrations()
    latest = migrations[-1].number if migrations else 0
    if version > latest:
        raise RuntimeError(
            f"The database is at schema version {version}, newer than this FamilyBot "
            f"knows ({latest}). Upgrade FamilyBot or restore a matching backup."
        )
    applied: list[Migration] = []
    assert isinstance(db, SqliteDatabase)
    conn = db.connection
    for migration in migrations:
        if migration.number <= version:
            continue
        # executescript commits first, so the whole migration is one explicit transaction.
        script = (
            f"BEGIN IMMEDIATE;\n{migration.sql}\nPRAGMA user_version = {migration.number};\nCOMMIT;"
        )
        try:
            await conn.executescript(script)
        except Exception:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            log.error("migration failed number=%d name=%s", migration.number, migration.name)
            raise
        log.info("migration applied number=%d name=%s", migration.number, migration.name)
        applied.append(migration)
    return applied


async def _migrate_postgres(db: PostgresDatabase) -> list[Migration]:
    """The same steps on PostgreSQL; the write lock keeps two processes from both migrating."""
    missing = await db.ensure_extensions()
    applied: list[Migration] = []
    # Patient: another process may be applying a long migration (or a stalled one be waiting
    # for the server to cut it); this one waits its turn rather than fail its start-up.
    async with db.transaction(patient=True):
        await mark_as_familybot(db)
        version = await current_version(db)
    migrations = available_migrations("postgresql")
    latest = migrations[-1].number if migrations else 0
    if version > latest:
        raise RuntimeError(
            f"The database is at schema version {version}, newer than this FamilyBot "
            f"knows ({latest}). Upgrade FamilyBot or restore a matching backup."
        )
    for migration in migrations:
        if migration.number <= version:
            continue
        try:
            async with db.transaction(patient=True):
                # Another process may have applied it while this one waited for the lock.
                if await current_version(db) >= migration.number:
                    continue
                sql = migration.sql
                if "pg_trgm" in missing:
                    sql = _without_trigram(sql)
                await db.run_script(sql)
                await db.set_schema_version(migration.number)
        except Exception:
            log.error("migration failed number=%d name=%s", migration.number, migration.name)
            raise
        log.info("migration applied number=%d name=%s", migration.number, migration.name)
        applied.append(migration)
    await db.refresh_schema()
    return applied


def _without_trigram(sql: str) -> str:
    """Drop the statements marked `-- needs pg_trgm` (the server lacks the extension)."""
    return "\n".join(line for line in sql.splitlines() if "-- needs pg_trgm" not in line)
