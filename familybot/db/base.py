"""What every database gives repositories: Database, Row, Result and the errors.

The backends (familybot/db/sqlite.py, familybot/db/postgres.py) register how they open;
familybot/db/connection.py is what the rest of the bot imports (it loads PostgreSQL's on use).
The database: SQLite (one aiosqlite connection) or PostgreSQL (an asyncpg pool).

Both give repositories the same calls (fetchall, fetchone, fetchval, execute, executemany,
transaction) with the same meaning; what differs between the two lives here and in
familybot/db/dialect.py, nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from familybot.db.dialect import SQLITE, Dialect

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]

# True while the current task is inside Database.transaction(): nested writes join it.


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


Opener = Callable[[Any, "int | None"], Awaitable["Database"]]
_OPENERS: dict[str, Opener] = {}


def register_backend(name: str, opener: Opener) -> None:
    """How a backend module opens its databases (target, busy timeout in ms or None)."""
    _OPENERS[name] = opener


def _opener(name: str) -> Opener:
    try:
        return _OPENERS[name]
    except KeyError:  # familybot.db.connection registers every backend
        raise RuntimeError(f"database backend {name!r} not loaded") from None


class Database:
    """What repositories talk to. `Database.open(path)` opens SQLite; `Database.connect(url
    or path)` opens whichever the DATABASE_URL / DATABASE_PATH names."""

    dialect: Dialect = SQLITE
    path: Path | str  # where it is, for messages (a PostgreSQL URL without its password)

    @classmethod
    async def open(cls, path: Path, *, busy_timeout_ms: int | None = None) -> Database:
        return await _opener("sqlite")(path, busy_timeout_ms)

    @classmethod
    async def connect(cls, target: str | Path) -> Database:
        if is_postgres_url(target):
            return await _opener("postgresql")(str(target), None)
        return await _opener("sqlite")(Path(target), None)

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

    async def insert_once(self, sql: str, params: Params = ()) -> bool:
        """An `INSERT OR IGNORE` of one row by a unique key, committed alone: True when this
        call's row went in, False when the key was there already (another process's).

        The unique key alone decides between two processes inserting the same row at once,
        so on PostgreSQL it takes no write lock and waits for no other transaction. It is
        never tried again on a lost connection: whether the row went in is then unknown."""
        return (await self.execute(sql, params)).rowcount == 1

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
