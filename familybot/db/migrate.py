"""Numbered SQL migrations tracked in PRAGMA user_version, each in one transaction."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

from familybot.db.connection import APPLICATION_ID as APPLICATION_ID  # re-exported
from familybot.db.connection import Database, NotFamilyBotDatabase

log = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    folder = resources.files("familybot.db") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME_RE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"Migrations must be numbered 1..n without gaps, found {numbers}")
    return found


async def current_version(db: Database) -> int:
    return int(await db.fetchval("PRAGMA user_version"))


async def mark_as_familybot(db: Database) -> None:
    """Give the database FamilyBot's application_id; refuse another program's database."""
    found = int(await db.fetchval("PRAGMA application_id"))
    if found == APPLICATION_ID:
        return
    if found != 0:
        raise NotFamilyBotDatabase(
            f"The database at {db.path} belongs to another program (application_id "
            f"{found:#x}, not FamilyBot's), so FamilyBot leaves it alone."
        )
    await db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    log.info("database marked as familybot application_id=%#x", APPLICATION_ID)


async def migrate(db: Database) -> list[Migration]:
    """Apply every migration newer than the database; return the ones applied."""
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
