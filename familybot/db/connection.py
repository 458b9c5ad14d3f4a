"""The database: SQLite (one aiosqlite connection) or PostgreSQL (an asyncpg pool).

Both give repositories the same calls (fetchall, fetchone, fetchval, execute, executemany,
transaction) with the same meaning; what differs between the two lives here and in
familybot/db/dialect.py, nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiosqlite

from familybot.db.dialect import SQLITE, Dialect
from familybot.files import create_private_file, make_private_dir

if TYPE_CHECKING:
    from familybot.db.postgres import PostgresDatabase

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]

# True while the current task is inside Database.transaction(): nested writes join it.
_in_transaction: ContextVar[bool] = ContextVar("familybot_in_transaction", default=False)

# How long a write waits for another process's lock (another shard's process, the sqlite3
# shell) before giving up with "database is locked". Below Discord's 3 s window on purpose:
# a command that meets a longer lock still gets its kind "try again" reply in time (a job is
# retried by its next run). A module constant so tests can shorten it.
BUSY_TIMEOUT_MS = 2000


# PRAGMA application_id of every FamilyBot database: "FBOT" in ASCII. It lives in the
# file's header, so `restore` can tell a FamilyBot database from any other SQLite file.
# Set by migrate (on creation and, for databases made before it existed, at the next
# migrate or start).
APPLICATION_ID = 0x46424F54


class Row(Protocol):
    """A result row: sqlite3.Row and asyncpg.Record both index by position and by name."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> Any: ...


@dataclass(frozen=True)
class Result:
    """What a write reports: rows changed (-1 when unknown) and the new row's id."""

    rowcount: int
    lastrowid: int | None = None


class DatabaseUnavailable(Exception):
    """The database cannot be opened or used (missing folder, locked, disk full, down).

    `kind` is 'locked' or 'full' (or 'down' on PostgreSQL) when a retry later can fix it.
    """

    def __init__(self, message: str = "", *, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind


class NotFamilyBotDatabase(DatabaseUnavailable):
    """The database file belongs to another program (its application_id is not ours)."""


def is_postgres_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class Database:
    """What repositories talk to. `Database.open(path)` opens SQLite; `Database.connect(url
    or path)` opens whichever the DATABASE_URL / DATABASE_PATH names."""

    dialect: Dialect = SQLITE
    path: Path | str  # where it is, for messages (a PostgreSQL URL without its password)

    @classmethod
    async def open(cls, path: Path, *, busy_timeout_ms: int | None = None) -> Database:
        return await SqliteDatabase.open_file(path, busy_timeout_ms=busy_timeout_ms)

    @classmethod
    async def connect(cls, target: str | Path) -> Database:
        if is_postgres_url(target):
            from familybot.db.postgres import PostgresDatabase

            return await PostgresDatabase.open_url(str(target))
        return await SqliteDatabase.open_file(Path(target))

    @property
    def is_postgres(self) -> bool:
        return self.dialect.name == "postgresql"

    async def close(self) -> None:
        raise NotImplementedError

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        raise NotImplementedError

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> Result:
        """Run one write; inside transaction() it joins it, otherwise it commits alone."""
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        raise NotImplementedError

    def transaction(self) -> AbstractAsyncContextManager[Database]:
        """An async context: one serialised transaction, rolled back on any error.

        Re-entrant per task: writes inside it join it."""
        raise NotImplementedError

    # --- schema: bookkeeping and introspection (migrate, privacy purge, check) --------------
    async def schema_version(self) -> int:
        raise NotImplementedError

    async def application_id(self) -> int:
        """FamilyBot's APPLICATION_ID, 0 for a new database, else another program's."""
        raise NotImplementedError

    async def tables(self) -> dict[str, set[str]]:
        """Every ordinary table (search indexes excluded) and its columns."""
        raise NotImplementedError

    async def foreign_keys(self, table: str) -> list[tuple[str, str, str]]:
        """(parent table, column, parent column) for each foreign key of `table`."""
        raise NotImplementedError

    async def server_version(self) -> str:
        raise NotImplementedError

    def as_postgres(self) -> PostgresDatabase | None:
        return None


class SqliteDatabase(Database):
    """A thin async wrapper: every write runs inside one serialised transaction.

    There is one connection per process, so concurrent coroutines share it; the write
    lock keeps one coroutine's transaction from swallowing another's statements.
    """

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open_file(cls, path: Path, *, busy_timeout_ms: int | None = None) -> SqliteDatabase:
        if busy_timeout_ms is None:
            busy_timeout_ms = BUSY_TIMEOUT_MS
        if str(path) != ":memory:":
            try:
                make_private_dir(path.parent)
            except OSError as exc:
                raise DatabaseUnavailable(
                    f"Cannot create the folder {path.parent} for the database: {exc.strerror}."
                ) from exc
            try:
                # 0600 before SQLite creates it (its default follows the umask, often 0644);
                # SQLite gives the -wal and -shm the database file's mode.
                create_private_file(path)
            except OSError as exc:
                raise DatabaseUnavailable(
                    f"Cannot create the database at {path}: {exc.strerror}."
                ) from exc
        try:
            conn = await aiosqlite.connect(str(path), isolation_level=None)
            conn.row_factory = sqlite3.Row
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            # Before anything writes (WAL mode changes the header): another program's file
            # is left exactly as it is.
            found = int(next(iter(await conn.execute_fetchall("PRAGMA application_id")))[0])
            if found not in (0, APPLICATION_ID):
                await conn.close()
                raise NotFamilyBotDatabase(
                    f"The database at {path} belongs to another program (application_id "
                    f"{found:#x}, not FamilyBot's), so FamilyBot leaves it alone."
                )
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = FULL")
            await conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(f"Cannot open the database at {path}: {exc}.") from exc
        return cls(conn, path)

    async def close(self) -> None:
        await self._conn.close()

    @property
    def connection(self) -> aiosqlite.Connection:
        return self._conn

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        rows = await self._conn.execute_fetchall(sql, params)
        return list(rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self._conn.execute_fetchall(sql, params)
        for row in rows:
            return row
        return None

    async def execute(self, sql: str, params: Params = ()) -> Result:
        """Run one write; inside transaction() it joins it, otherwise it commits alone."""
        if _in_transaction.get():
            cursor = await self._conn.execute(sql, params)
            return Result(cursor.rowcount, cursor.lastrowid)
        async with self.transaction():
            cursor = await self._conn.execute(sql, params)
            return Result(cursor.rowcount, cursor.lastrowid)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        if _in_transaction.get():
            await self._conn.executemany(sql, rows)
            return
        async with self.transaction():
            await self._conn.executemany(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error. Re-entrant per task."""
        if _in_transaction.get():
            yield self
            return
        async with self._write_lock:
            token = _in_transaction.set(True)
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                except BaseException:
                    # SQLite rolls back by itself after some errors (a full disk, an I/O
                    # error): a second ROLLBACK would fail and hide the real error.
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    raise
                await self._conn.execute("COMMIT")
            finally:
                _in_transaction.reset(token)

    async def schema_version(self) -> int:
        return int(await self.fetchval("PRAGMA user_version"))

    async def application_id(self) -> int:
        return int(await self.fetchval("PRAGMA application_id"))

    async def tables(self) -> dict[str, set[str]]:
        rows = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'"
        )
        out: dict[str, set[str]] = {}
        for r in rows:
            cols = await self.fetchall(f'PRAGMA table_info("{r["name"]}")')
            out[str(r["name"])] = {str(c["name"]) for c in cols}
        return out

    async def foreign_keys(self, table: str) -> list[tuple[str, str, str]]:
        rows = await self.fetchall(f'PRAGMA foreign_key_list("{table}")')
        return [(str(r["table"]), str(r["from"]), str(r["to"] or "id")) for r in rows]

    async def server_version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"
