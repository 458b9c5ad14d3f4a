"""PostgreSQL's errors as FamilyBot's (familybot/db/postgres.py): which mean the database is
down, busy or full, which mean a constraint refused a change, and which mean the connection
went away so that trying again on a fresh one cannot apply anything twice."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import ssl
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from familybot.db.base import DatabaseUnavailable


class IntegrityError(sqlite3.IntegrityError):
    """A constraint or trigger refused a change (the same class callers catch on SQLite)."""


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


DOWN = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InternalClientError,
    asyncpg.IdleInTransactionSessionTimeoutError,
)
# The connection went away (a restart, a dropped network, a failover): nothing sent on it
# after this was applied, so a read, a lone write or a transaction's start can be tried
# again on a fresh connection from the pool.
LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    ConnectionError,
    # A connection whose backend was terminated while idle can be left mid-state; asyncpg
    # refuses to use it before sending anything ("another operation is in progress").
    asyncpg.InternalClientError,
    # The server ended the session: it sat in a transaction past
    # idle_in_transaction_session_timeout (familybot/db/postgres.py). Rolled back, locks freed.
    asyncpg.IdleInTransactionSessionTimeoutError,
)
RETRY_PAUSE_S = 0.1  # before the one retry: a restarting server accepts again quickly
# How long to ask whether a commit whose answer was lost happened: the old backend may
# still be finishing it.
COMMIT_CHECK_S = 3.0


class CommitOutcomeUnknown(DatabaseUnavailable):
    """COMMIT went out, its answer never came back, and the server could not be asked
    whether it committed: the change may or may not be stored. Never retried."""


def lost_connection(exc: BaseException) -> bool:
    """A DatabaseUnavailable (or asyncpg error) that says the connection went away, where
    trying again on a fresh connection cannot apply anything twice."""
    if isinstance(exc, CommitOutcomeUnknown):
        return False
    cause = exc.__cause__ if isinstance(exc, DatabaseUnavailable) else exc
    return isinstance(cause, LOST)


def stalled(exc: BaseException) -> bool:
    """A statement that got no answer within the pool's command_timeout: the connection may
    still deliver that answer later, so it is closed rather than used again. Not tried again
    on a fresh one (a network that hangs is likely hanging still)."""
    cause = exc.__cause__ if isinstance(exc, DatabaseUnavailable) else exc
    return isinstance(cause, TimeoutError)


LOCKED = (
    asyncpg.DeadlockDetectedError,
    asyncpg.LockNotAvailableError,
    asyncpg.SerializationError,
    asyncpg.QueryCanceledError,
)


def map_error(exc: BaseException, where: str) -> BaseException | None:
    """The FamilyBot error for an asyncpg/OS error, or None to let it pass as it is."""
    if isinstance(exc, asyncpg.DiskFullError):
        return DatabaseUnavailable(f"The database server's disk is full ({where}).", kind="full")
    if isinstance(exc, LOCKED):
        return DatabaseUnavailable(f"The database is busy ({where}).", kind="locked")
    if isinstance(exc, DOWN):
        return DatabaseUnavailable(
            f"The database at {where} cannot be reached: {exc.__class__.__name__}.", kind="down"
        )
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError | asyncpg.RaiseError):
        return IntegrityError(str(exc))
    return None


def discard(conn: asyncpg.Connection) -> None:
    """Close a connection that lost its server, so the pool opens a new one in its place
    instead of handing it out again half-broken."""
    with contextlib.suppress(asyncpg.InterfaceError):  # already back in the pool, closed
        conn.terminate()


def closed(conn: asyncpg.Connection) -> bool:
    """A pooled connection that broke is handed back to the pool at once: asking it anything
    then raises, which means closed too."""
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:
        return True


# Errors at connect that waiting will not fix (they would otherwise count as the server down):
# a DATABASE_URL option asyncpg refuses, or a server certificate the bot does not trust. A TLS
# handshake cut off (SSLEOFError: the server restarting) is the server down, as before.
SETTING_ERRORS = (asyncpg.ClientConfigurationError, ssl.SSLCertVerificationError)


def connect_error(exc: BaseException, where: str) -> DatabaseUnavailable | None:
    """The error for a pool that could not open, or None to let `exc` pass as it is. Kind
    "down" for a server that may come back (`familybot run` waits and tries again); None for
    what a setting must fix (a wrong password or database name, a bad sslmode)."""
    mapped = map_error(exc, where)
    if not (isinstance(mapped, DatabaseUnavailable) or isinstance(exc, asyncpg.PostgresError)):
        return None
    kind = mapped.kind if isinstance(mapped, DatabaseUnavailable) else None
    if isinstance(exc, SETTING_ERRORS):
        kind = None
    return DatabaseUnavailable(f"Cannot open the PostgreSQL database at {where}: {exc}.", kind=kind)
