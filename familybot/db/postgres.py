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
from familybot.db.peers import KEEPALIVE
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
    stalled,
)
from familybot.db.pg_errors import (
    redact as redact,  # re-exported: the CLI and backups print URLs without passwords
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# How long to wait for a connection when opening (a server that is down answers at once).
CONNECT_TIMEOUT_S = 5.0
# Bounds on a transaction that stops moving (issue 16). Every write transaction holds the one
# write lock shared by all processes (_begin), so a process whose network hangs, or that hangs
# itself, inside one would hold every other process's writes until the server noticed: after
# the OS keepalive, about two hours. Module constants, read at open, so tests can shorten them.
#
# The server ends a session that sits this long inside a transaction without sending anything,
# rolling it back and freeing its locks. Our transactions send their statements back to back:
# none waits on Discord, a sleep or a long computation between them (audited: every
# transaction() body is database calls only; `familybot db copy`, backups and restore use
# connections of their own, not these), so a gap is a round trip or an event-loop pause (the
# benches' longest stall is 31 ms, README "Performance"). 10 s is hundreds of times that, and frees a stalled host's lock
# before its keepalive probes (below) would, at 25 s.
IDLE_IN_TRANSACTION_S = 10.0
# How long a statement waits for a lock (the shared write lock first) before it fails as
# "busy": the kind "try again" reply, the transaction rolled back, a job retried by its next
# run. 2 s as SQLite's busy timeout (db/sqlite.py BUSY_TIMEOUT_MS): inside Discord's 3 s, so
# a command that is not deferred still answers in time. The lock is held for milliseconds
# at a time; only a holder that stops (freed by the timeout above) or a long migration or
# copy holds it longer. Migrations wait without a bound (transaction(patient=True)).
LOCK_TIMEOUT_S = 2.0
# Our side: a statement with no answer in this long fails (its connection is dropped, not
# reused), so a task waiting on a connection whose network hangs ends instead of waiting for
# the kernel (minutes to hours; forever behind a proxy that holds the connection open). Far
# above what the bot's statements need (look-ups, and batches of at most 2,000 rows: the
# planner's 200 series, dispatch's 500 reminders, retention's 2,000); migrations, which may rewrite a large table, pass SCRIPT_TIMEOUT_S.
COMMAND_TIMEOUT_S = 30.0
SCRIPT_TIMEOUT_S = 3600.0  # a migration on a large database: its own, generous bound
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


def server_settings() -> dict[str, str]:
    """What the pool's connections ask of the server: a vanished host's session and locks
    end after the liveness connection's keepalive probes fail, a transaction that stops
    moving after IDLE_IN_TRANSACTION_S, and a wait for a lock after LOCK_TIMEOUT_S."""
    return {
        **KEEPALIVE,
        "idle_in_transaction_session_timeout": str(round(IDLE_IN_TRANSACTION_S * 1000)),
        "lock_timeout": str(round(LOCK_TIMEOUT_S * 1000)),
    }


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
                command_timeout=COMMAND_TIMEOUT_S,
                server_settings=server_settings(),
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
                except (*LOST, TimeoutError):  # a stalled one: its late answer would confuse
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
    async def transaction(self, *, patient: bool = False) -> AsyncIterator[Database]:
        """`patient`: wait for locks without LOCK_TIMEOUT_S (a migration at start-up, which
        must not fail because another process is migrating or a stalled one is being cut)."""
        if self._tx.get() is not None:
            yield self
            return
        try:
            conn_cm, conn, tx, xid = await self._begin(patient)
        except DatabaseUnavailable as exc:
            if not lost_connection(exc):
                raise
            # Nothing ran yet: a pooled connection the server had closed. Once more.
            log.warning("database connection lost at BEGIN; trying once more on a new one")
            await asyncio.sleep(RETRY_PAUSE_S)
            conn_cm, conn, tx, xid = await self._begin(patient)
        token = self._tx.set(conn)
        try:
            try:
                yield self
            except BaseException as exc:
                if lost_connection(exc) or stalled(exc):
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

    async def _begin(self, patient: bool = False) -> tuple[Any, asyncpg.Connection, Any, int]:
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
                if patient:
                    await self._run(lambda c: c.execute("SET LOCAL lock_timeout = 0"))
                xid = await self._run(
                    lambda c: c.fetchval(
                        "SELECT txid_current() FROM pg_advisory_xact_lock($1)", WRITE_LOCK_KEY
                    )
                )
            finally:
                self._tx.reset(token)
        except BaseException as exc:
            if lost_connection(exc) or stalled(exc):
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
            # No answer in COMMAND_TIMEOUT_S is as good as none at all: it may have committed.
            if not isinstance(exc, (*LOST, TimeoutError)):
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
        await self._run(lambda c: c.execute(sql, timeout=SCRIPT_TIMEOUT_S))


async def _open(target: Any, busy_timeout_ms: int | None) -> Database:
    return await PostgresDatabase.open_url(str(target))


register_backend("postgresql", _open)
