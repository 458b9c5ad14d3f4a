"""PostgreSQL's bookkeeping and catalogue reads for FamilyBot's database (PostgresDatabase's
base): the schema version and application id (kept in the schema_version table, where SQLite
has PRAGMA user_version and application_id), the tables, columns and foreign keys (db copy,
privacy purge), the server's version and the extensions FamilyBot uses."""

from __future__ import annotations

import logging

import asyncpg

from familybot.db.base import APPLICATION_ID, Database
from familybot.db.pg_errors import IntegrityError

log = logging.getLogger(__name__)

# Extensions FamilyBot uses when the server has them (search works without, less typo-proof).
EXTENSIONS = ("pg_trgm",)

SCHEMA_TABLE = "schema_version"


class PostgresCatalog(Database):
    """The catalogue half of PostgresDatabase (familybot/db/postgres.py): plain queries
    through the database's own calls."""

    async def run_script(self, sql: str) -> None:  # PostgresDatabase's
        raise NotImplementedError

    async def _has_table(self, name: str) -> bool:
        found = await self.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_name = ?",
            (name,),
        )
        return int(found) > 0

    async def schema_version(self) -> int:
        if not await self._has_table(SCHEMA_TABLE):
            return 0
        return int(await self.fetchval(f"SELECT coalesce(max(version), 0) FROM {SCHEMA_TABLE}"))

    async def application_id(self) -> int:
        if await self._has_table(SCHEMA_TABLE):
            return int(await self.fetchval(f"SELECT max(application_id) FROM {SCHEMA_TABLE}"))
        others = await self.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return 0 if int(others) == 0 else -1  # -1: tables of another program, no marker

    async def mark_as_familybot(self) -> None:
        await self.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (application_id BIGINT NOT NULL, "
            "version INTEGER NOT NULL)"
        )
        if await self.fetchval(f"SELECT count(*) FROM {SCHEMA_TABLE}") == 0:
            await self.execute(
                f"INSERT INTO {SCHEMA_TABLE} (application_id, version) VALUES (?, 0)",
                (APPLICATION_ID,),
            )

    async def set_schema_version(self, version: int) -> None:
        await self.execute(f"UPDATE {SCHEMA_TABLE} SET version = ?", (version,))

    async def tables(self) -> dict[str, set[str]]:
        rows = await self.fetchall(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema "
            "AND t.table_name = c.table_name WHERE c.table_schema = current_schema() "
            "AND t.table_type = 'BASE TABLE' AND c.table_name <> ?",
            (SCHEMA_TABLE,),
        )
        out: dict[str, set[str]] = {}
        for r in rows:
            out.setdefault(str(r[0]), set()).add(str(r[1]))
        return out

    async def foreign_keys(self, table: str) -> list[tuple[str, str, str]]:
        rows = await self.fetchall(
            "SELECT pt.relname, a.attname, pa.attname FROM pg_constraint k "
            "JOIN pg_class t ON t.oid = k.conrelid JOIN pg_class pt ON pt.oid = k.confrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "CROSS JOIN LATERAL unnest(k.conkey, k.confkey) AS u(col, pcol) "
            "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.col "
            "JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = u.pcol "
            "WHERE k.contype = 'f' AND t.relname = ? AND n.nspname = current_schema()",
            (table,),
        )
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def server_version(self) -> str:
        return f"PostgreSQL {await self.fetchval('SHOW server_version')}"

    async def missing_extensions(self) -> list[str]:
        rows = await self.fetchall("SELECT extname FROM pg_extension")
        have = {str(r[0]) for r in rows}
        return [e for e in EXTENSIONS if e not in have]

    async def ensure_extensions(self) -> list[str]:
        """Create the extensions FamilyBot uses; return the ones that could not be made."""
        missing: list[str] = []
        for name in await self.missing_extensions():
            try:
                async with self.transaction():
                    await self.run_script(f"CREATE EXTENSION IF NOT EXISTS {name}")
            except (asyncpg.PostgresError, IntegrityError) as exc:
                log.warning(
                    "PostgreSQL extension %s could not be created (%s): typo-tolerant search "
                    "is weaker; ask the database owner to run CREATE EXTENSION %s",
                    name,
                    exc.__class__.__name__,
                    name,
                )
                missing.append(name)
        return missing
