"""SQLite: one aiosqlite connection per process (familybot/db/base.py says what it gives)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import aiosqlite

from familybot.db.base import (
    APPLICATION_ID,
    Database,
    DatabaseUnavailable,
    NotFamilyBotDatabase,
    Params,
    Result,
    Row,
    register_backend,
)
from familybot.files import create_private_file, make_private_dir

log = logging.getLogger(__name__)

_in_transaction: ContextVar[bool] = ContextVar("familybot_in_transaction", default=False)

# How long a write waits for another process's lock (another shard's process, the sqlite3
# shell) before giving up with "database is locked". Below Discord's 3 s window on purpose:
# a command that meets a longer lock still gets its kind "try again" reply in time (a job is
# retried by its next run). A module constant so tests can shorten it.
BUSY_TIMEOUT_MS = 2000
# insert_once's own connection waits this long for another writer, then gives up.
CLAIM_BUSY_TIMEOUT_MS = 250


class SqliteDatabase(Database):
    """A thin async wrapper: every write runs inside one serialised transaction.

    There is one connection per process, so concurrent coroutines share it; the write
    lock keeps one coroutine's transaction from swallowing another's statements.
    """

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()
        # insert_once's connection, opened on first use by a task of its own: a claim that
        # gives up while it opens (the gate's time limit) must not leave it half open, as an
        # unclosed aiosqlite thread keeps the process from exiting.
        self._claims: asyncio.Task[aiosqlite.Connection] | None = None
        self._closed = False

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
        self._closed = True  # no claim connection opens after this
        claims, self._claims = self._claims, None
        if claims is not None:
            await asyncio.wait({claims})
            if not claims.cancelled() and claims.exception() is None:
                await claims.result().close()
        await self._conn.close()

    async def _claims_connection(self) -> aiosqlite.Connection:
        opening = self._claims
        if opening is None or (opening.done() and (opening.cancelled() or opening.exception())):
            if self._closed:
                raise DatabaseUnavailable(f"The database at {self.path} is closed.")
            opening = self._claims = asyncio.ensure_future(self._open_claims())
        return await asyncio.shield(opening)

    async def _open_claims(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(str(self.path), isolation_level=None)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(CLAIM_BUSY_TIMEOUT_MS)}")
            await conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            await conn.close()
            raise
        return conn

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

    async def insert_once(self, sql: str, params: Params = ()) -> bool:
        """On a connection of its own: aiosqlite runs one connection's statements one after
        another, so a claim waiting for another process's lock would hold up every read of
        this process; here it gives up after CLAIM_BUSY_TIMEOUT_MS instead. Its commits skip
        the disk flush (synchronous NORMAL, still safe in WAL mode): such a row matters for
        minutes, and a crash at worst forgets the last ones."""
        if _in_transaction.get() or str(self.path) == ":memory:":
            return await super().insert_once(sql, params)
        try:
            cursor = await (await self._claims_connection()).execute(sql, params)
        except sqlite3.Error as exc:
            kind = "locked" if "locked" in str(exc) or "busy" in str(exc) else None
            raise DatabaseUnavailable(f"Cannot claim in {self.path}: {exc}.", kind=kind) from exc
        return cursor.rowcount == 1

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


async def _open(target: Any, busy_timeout_ms: int | None) -> Database:
    return await SqliteDatabase.open_file(Path(target), busy_timeout_ms=busy_timeout_ms)


register_backend("sqlite", _open)
