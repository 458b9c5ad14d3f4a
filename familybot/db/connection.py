"""The database: SQLite (one aiosqlite connection) or PostgreSQL (an asyncpg pool).

Both give repositories the same calls (fetchall, fetchone, fetchval, execute, executemany,
transaction) with the same meaning; what differs between the two lives in the backends
(familybot/db/sqlite.py, familybot/db/postgres.py) and familybot/db/dialect.py, nowhere
else. This module is what the rest of the bot imports: `Database.open(path)` and
`Database.connect(url or path)` open either. The PostgreSQL backend (and asyncpg, 20-45 ms
of start-up) is imported only when a PostgreSQL database is opened or `PostgresDatabase`
is asked for, so a SQLite install never loads it (issue 15).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from familybot.db.base import (
    APPLICATION_ID,
    Database,
    DatabaseUnavailable,
    NotFamilyBotDatabase,
    Params,
    Result,
    Row,
    is_postgres_url,
    register_backend,
)
from familybot.db.sqlite import SqliteDatabase

if TYPE_CHECKING:
    from familybot.db.postgres import PostgresDatabase

__all__ = [
    "APPLICATION_ID",
    "Database",
    "DatabaseUnavailable",
    "NotFamilyBotDatabase",
    "Params",
    "PostgresDatabase",
    "Result",
    "Row",
    "SqliteDatabase",
    "as_postgres",
    "is_postgres_url",
]


async def _open_postgres(target: Any, busy_timeout_ms: int | None) -> Database:
    """Opens through the backend's own opener, importing it on first use."""
    from familybot.db import postgres

    return await postgres._open(target, busy_timeout_ms)


# Importing familybot.db.postgres registers the same opener again (it is then the backend's).
register_backend("postgresql", _open_postgres)


def as_postgres(db: Database) -> PostgresDatabase | None:
    """`db` as a PostgresDatabase, or None: the backend is imported only for one."""
    if not db.is_postgres:
        return None
    from familybot.db.postgres import PostgresDatabase

    return db if isinstance(db, PostgresDatabase) else None


def __getattr__(name: str) -> Any:
    # `from familybot.db.connection import PostgresDatabase` still works, importing it then.
    if name == "PostgresDatabase":
        from familybot.db.postgres import PostgresDatabase

        return PostgresDatabase
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
