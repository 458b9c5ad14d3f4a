"""The database: SQLite (one aiosqlite connection) or PostgreSQL (an asyncpg pool).

Both give repositories the same calls (fetchall, fetchone, fetchval, execute, executemany,
transaction) with the same meaning; what differs between the two lives in the backends
(familybot/db/sqlite.py, familybot/db/postgres.py) and familybot/db/dialect.py, nowhere
else. This module is what the rest of the bot imports: it loads both backends, so
`Database.open(path)` and `Database.connect(url or path)` can open either.
"""

from __future__ import annotations

from familybot.db.base import (
    APPLICATION_ID,
    Database,
    DatabaseUnavailable,
    NotFamilyBotDatabase,
    Params,
    Result,
    Row,
    is_postgres_url,
)
from familybot.db.postgres import PostgresDatabase
from familybot.db.sqlite import SqliteDatabase

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
    "is_postgres_url",
]
