"""PostgreSQL through an asyncpg pool, with the same calls and meaning as the SQLite database.

- SQL is written once, SQLite-spelled; familybot.db.dialect rewrites it for PostgreSQL.
- transaction() is one serialised transaction, as SQLite's BEGIN IMMEDIATE: it takes a
  transaction-level advisory lock shared by every FamilyBot process on the database, so a
  read-then-write inside it (the next case number, a ledger claim) never races another
  process. A statement outside transaction() commits alone, under the same lock; only
  insert_once (an insert-if-absent by a unique key, atomic by itself) goes without it.
- Errors: connection loss, a server starting or shutting down, a full disk, a deadlock
  become DatabaseUnavailable with a kind (as SQLite's "locked" and "full"); a constraint
  or trigger refusal becomes IntegrityError, a sqlite3.IntegrityError, so callers catch one
  class on both backends.
- Faults (a server restart, a dropped connection, a failover): a read, a lone write and
  the start of a transaction that lose their connection are tried once more on a fresh one
  (nothing was applied). A transaction that loses it inside its body is rolled back by the
  server and reported (DatabaseUnavailable), never half-applied. One that loses it at COMMIT
  asks the server whether it committed (txid_status) rather than guess; when that cannot be
  asked either, it is reported and logged as "outcome unknown".
- Bookkeeping: the schema version and FamilyBot's application id live in the
  schema_version table (SQLite keeps them in PRAGMA user_version and application_id).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import asyncpg

from familybot.db.base import (
    Database,
    DatabaseUnavailable,
    Params,
    Result,
    Row,
    register_backend,
)
from familybot.db.dialect import (
    POSTGRES,
    WRITE_LOCK_KEY,
    postgres_args,
    postgres_sql,
    rowcount_from_status,
    translate_postgres,
)
from familybot.db.pg_catalog import EXTENSIONS as EXTENSIONS  # re-exported (familybot check)
from familybot.db.pg_catalog import PostgresCatalog
from familybot.db.pg_errors import (
    COMMIT_CHECK_S,
    LOST,
    RETRY_PAUSE_S,
    CommitOutcomeUnknown,
    closed,
    connect_error,
    discard,
    lost_connection,
    map_error,
)
from familybot.db.pg_errors import (
    redact as redact,  # re-exported: the CLI and backups print URLs without passwords
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# How long to wait for a connection when opening (a server that is down answers at once).
CONNECT_TIMEOUT_S = 5.0
# Closing the pool waits for its connections' round trips this long at most, then cuts them: a
# stalled connection must not hang a stop (and with it the handover to another process).
CLOSE_TIMEOUT_S = 5.0


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """The pool's reset of a released connection: nothing to send (issue 15: asyncpg's default
    sends 'SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;', a round trip
    after every statement). The pool's connections keep no session state to undo: locks are
    transaction-level (pg_advisory_xact_lock), cursors live inside transactions, nothing runs
    SET (only SET LOCAL), LISTEN or a session advisory lock on them (the liveness and leader
    locks hold connections of their own, familybot/db/peers.py). A transaction still open at
    release is rolled back by asyncpg before this is called, as before."""


class PostgresDatabase(PostgresCatalog):
    dialect = POSTGRES

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url
        self.path = redact(url)
        # The connection of the transaction the current task is in, if any.
        self._tx: ContextVar[asyncpg.Connection | None] = ContextVar(
            f"familybot_pg_tx_{id(self)}", default=None
        )
        # Tables whose id is generated: an INSERT into one returns the id (lastrowid).
        self._identity_tables: set[str] = set()

    @classmethod
    async def open_url(cls, url: str, *, max_size: int = 10) -> PostgresDatabase:
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=max_size,
                timeout=CONNECT_TIMEOUT_S,
                reset=_nothing_to_reset,
            )
        except Exception as exc:
            failed = connect_error(exc, redact(url))
            if failed is None:
                raise
            raise failed from exc
        db = cls(pool, url)
        await db.refresh_schema()
        return db

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._pool.close(), timeout=CLOSE_TIMEOUT_S)
        except TimeoutError:
            log.warning("database connections did not close in time: cut")
            self._pool.terminate()

    async def refresh_schema(self) -> None:
        rows = await self.fetchall(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND column_name = 'id' AND is_identity = 'YES'"
        )
        self._identity_tables = {str(r[0]) for r in rows}

    async def _run(self, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        try:
            conn = self._tx.get()
            if conn is not None:
                return await fn(conn)
            async with self._pool.acquire() as acquired:
                try:
                    return await fn(acquired)
                except LOST:
                    discard(acquired)
                    raise
        except Exception as exc:
            mapped = map_error(exc, str(self.path))
            if mapped is None:
                raise
            raise mapped from exc

    async def _again_if_lost(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Outside a transaction: one more try on a fresh connection if the first lost its."""
        try:
            return await attempt()
        except DatabaseUnavailable as exc:
            if self._tx.get() is not None or not lost_connection(exc):
                raise
            log.warning("database connection lost; trying once more on a new one")
        await asyncio.sleep(RETRY_PAUSE_S)
        return await attempt()

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        t = translate_postgres(sql)
        args = postgres_args(t, params)
        text = postgres_sql(t, args)
        if self._tx.get() is None:
            return await self._again_if_lost(lambda: self._run(lambda c: c.fetch(text, *args)))
        rows: list[Row] = await self._run(lambda c: c.fetch(text, *args))
        return rows

    async def _alone(self, write: Callable[[], Awaitable[T]]) -> T:
        """A write outside any transaction: its own transaction, tried once more when the
        connection was lost before COMMIT (so nothing of it was applied)."""

        async def attempt() -> T:
            async with self.transaction():
                return await write()

        return await self._again_if_lost(attempt)

    async def execute(self, sql: str, params: Params = ()) -> Result:
        if self._tx.get() is None:
            return await self._alone(lambda: self.execute(sql, params))
        t = translate_postgres(sql)
        args = postgres_args(t, params)
        text = postgres_sql(t, args)
        if t.insert_table in self._identity_tables and "returning" not in text.lower():
            rows = await self._run(lambda c: c.fetch(text + " RETURNING id", *args))
            return Result(len(rows), int(rows[0][0]) if rows else None)
        status: str = await self._run(lambda c: c.execute(text, *args))
        return Result(rowcount_from_status(status))

    async def insert_once(self, sql: str, params: Params = ()) -> bool:
        t = translate_postgres(sql)
        args = postgres_args(t, params)
        text = postgres_sql(t, args)
        status: str = await self._run(lambda c: c.execute(text, *args))
        return rowcount_from_status(status) == 1

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        if self._tx.get() is None:
            rows = list(rows)
            await self._alone(lambda: self.executemany(sql, rows))
            return
        t = translate_postgres(sql)
        batch = [postgres_args(t, p) for p in rows]
        if batch:
            text = postgres_sql(t, batch[0])
            await self._run(lambda c: c.executemany(text, batch))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        if self._tx.get() is not None:
            yield self
            return
        try:
            conn_cm, conn, tx, xid = await self._begin()
        except DatabaseUnavailable as exc:
            if not lost_connection(exc):
                raise
            # Nothing ran yet: a pooled connection the server had closed. Once more.
            log.warning("database connection lost at BEGIN; trying once more on a new one")
            await asyncio.sleep(RETRY_PAUSE_S)
            conn_cm, conn, tx, xid = await self._begin()
        token = self._tx.set(conn)
        try:
            try:
                yield self
            except BaseException as exc:
                if lost_connection(exc):
                    discard(conn)
                elif not closed(conn):
                    try:
                        await tx.rollback()
                    except Exception:  # the connection broke: the server rolls it back
                        log.warning("rollback failed; the server discards the transaction")
                raise
            await self._commit(conn, tx, xid)
        finally:
            self._tx.reset(token)
            await conn_cm.__aexit__(None, None, None)

    async def _begin(self) -> tuple[Any, asyncpg.Connection, Any, int]:
        """A pooled connection in a new transaction holding the write lock, and the
        transaction's id (to ask about it if COMMIT's answer is lost)."""
        try:
            conn_cm = self._pool.acquire()
            conn = await conn_cm.__aenter__()
        except Exception as exc:
            mapped = map_error(exc, str(self.path))
            if mapped is None:
                raise
            raise mapped from exc
        try:
            tx = conn.transaction()
            token = self._tx.set(conn)
            try:
                await self._run(lambda c: tx.start())
                xid = await self._run(
                    lambda c: c.fetchval(
                        "SELECT txid_current() FROM pg_advisory_xact_lock($1)", WRITE_LOCK_KEY
                    )
                )
            finally:
                self._tx.reset(token)
        except BaseException as exc:
            if lost_connection(exc):
                discard(conn)
            await conn_cm.__aexit__(None, None, None)
            raise
        return conn_cm, conn, tx, int(xid)

    async def _commit(self, conn: asyncpg.Connection, tx: Any, xid: int) -> None:
        try:
            await tx.commit()
            return
        except Exception as exc:
            mapped = map_error(exc, str(self.path))
            if not isinstance(exc, LOST):
                if mapped is None:
                    raise
                raise mapped from exc
            discard(conn)
            lost = exc
        # COMMIT went out and its answer did not come back: ask the server what happened.
        status = await self._transaction_status(xid)
        if status == "committed":
            log.warning("database connection lost at COMMIT; the server had committed")
            return
        if status == "aborted":
            raise DatabaseUnavailable(
                f"The database at {self.path} went away during COMMIT; nothing was saved.",
                kind="down",
            ) from lost
        log.error("database connection lost at COMMIT; outcome unknown xid=%d", xid)
        raise CommitOutcomeUnknown(
            f"The database at {self.path} went away during COMMIT; outcome unknown.", kind="down"
        ) from lost

    async def _transaction_status(self, xid: int) -> str | None:
        """'committed', 'aborted', or None when the server cannot say (or be reached)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + COMMIT_CHECK_S
        while True:
            left = max(until - loop.time(), 0.1)  # bounded even with every connection busy
            try:
                async with self._pool.acquire(timeout=left) as conn:
                    status = await conn.fetchval("SELECT txid_status($1)", xid, timeout=left)
            except Exception:
                status = None
            if status in ("committed", "aborted"):
                return str(status)
            if loop.time() >= until:
                return None
            await asyncio.sleep(RETRY_PAUSE_S)  # still in progress: the old backend finishes

    async def run_script(self, sql: str) -> None:
        """Several statements at once (a migration), inside the current transaction."""
        await self._run(lambda c: c.execute(sql))


async def _open(target: Any, busy_timeout_ms: int | None) -> Database:
    return await PostgresDatabase.open_url(str(target))


register_backend("postgresql", _open)
