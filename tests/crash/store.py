"""The crash test's database, on either backend, read with the test's own connections.

The bot under test (the child) reaches it through DATABASE_PATH (SQLite) or DATABASE_URL
(PostgreSQL, a fresh database of the test session's server: tests/support/backends.py).
The test reads it without FamilyBot's database layer: sqlite3, or asyncpg with the `?`
placeholders numbered here.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import backends


@dataclass
class CrashStore:
    backend: str
    path: Path  # SQLite's file (unused on PostgreSQL)
    url: str | None = None  # PostgreSQL's database

    @property
    def target(self) -> str | Path:
        """What FamilyBot's Database.connect opens (the seed writes through it)."""
        return self.url if self.url is not None else self.path

    def env(self) -> dict[str, str]:
        """The child's setting naming the database."""
        if self.url is not None:
            return {"DATABASE_URL": self.url}
        return {"DATABASE_PATH": str(self.path)}

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read, `?` placeholders; [] when the table does not exist yet (not migrated)."""
        if self.url is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
            try:
                return [tuple(r) for r in conn.execute(sql, tuple(params)).fetchall()]
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return []
                raise
            finally:
                conn.close()
        import asyncpg

        numbered = iter(range(1, 1000))
        text = re.sub(r"\?", lambda _: f"${next(numbered)}", sql)
        conn = await asyncpg.connect(self.url, timeout=5)
        try:
            return [tuple(r) for r in await conn.fetch(text, *params)]
        except asyncpg.UndefinedTableError:
            return []
        finally:
            await conn.close()

    async def integrity_problems(self) -> list[str]:
        """SQLite's own checks (a torn page, a dangling foreign key); PostgreSQL's WAL and
        always-enforced foreign keys leave nothing to check from outside but the rows."""
        if self.url is not None:
            return []
        conn = sqlite3.connect(self.path)
        try:
            problems = [str(r) for r in conn.execute("PRAGMA integrity_check") if r != ("ok",)]
            problems += [str(r) for r in conn.execute("PRAGMA foreign_key_check")]
            return problems
        finally:
            conn.close()


@asynccontextmanager
async def crash_store(backend: str, tmp: Path) -> AsyncIterator[CrashStore]:
    """A database for one crash test: a file, or a fresh PostgreSQL database (dropped after)."""
    if backend != "postgres":
        yield CrashStore(backend, tmp / "familybot.db")
        return
    name = await backends.SERVER.fresh_database()  # skips (fails under CI) without a server
    try:
        yield CrashStore(backend, tmp / "unused.db", backends.url_for(name))
    finally:
        await backends.SERVER.drop(name)
