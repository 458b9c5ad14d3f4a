"""`familybot db copy`: move an install between SQLite and PostgreSQL, whole or not at all.

SQLite -> PostgreSQL: the target is migrated first (the same schema the bot would make) and
must hold no rows but the ones the migrations write themselves (install_identity, which the
copy replaces: it is still the same install). Every table both schemas have is copied in one
transaction, parents before children; every serial/identity counter is set to the highest
id copied (or SQLite's AUTOINCREMENT counter when that is higher); each table's row count is
compared with the source's before the commit. Any failure rolls everything back, so the
target is left as empty as it was.

PostgreSQL -> SQLite: into a NEW file, built under a temporary name beside it and put in
place only when every count matched, so a failure leaves no file at all.

The source is read in one snapshot (a read transaction) and never written.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from familybot.db.base import APPLICATION_ID
from familybot.db.copy_schema import (
    CopyError,
    Table,
    insert_order,
    match_tables,
    postgres_counters,
    postgres_tables,
    quote,
    refuse_rows,
    sqlite_counters,
    sqlite_tables,
    to_postgres,
    to_sqlite,
)
from familybot.db.dialect import WRITE_LOCK_KEY
from familybot.db.postgres import redact
from familybot.files import make_private_dir

CHUNK = 5000
_SEED_RE = re.compile(r'^INSERT\s+(?:OR\s+\w+\s+)?INTO\s+"?(\w+)', re.I | re.M)

__all__ = ["CopyError", "CopyReport", "copy_postgres_to_sqlite", "copy_sqlite_to_postgres"]


@dataclass(frozen=True)
class CopyReport:
    source: str
    target: str
    schema_version: int
    counts: list[tuple[str, int]]  # every copied table and its rows (equal on both sides)
    left_out: list[str]  # the source's own machinery the target does not have
    rebuilt: list[str]  # the target's own machinery, filled from the copied rows
    counters: int  # serial/identity counters set

    @property
    def rows(self) -> int:
        return sum(n for _, n in self.counts)


def seeded_tables(dialect: str) -> set[str]:
    """Tables the migrations themselves fill (an INSERT at the start of a line)."""
    from familybot.db.migrate import available_migrations

    return {m.lower() for mig in available_migrations(dialect) for m in _SEED_RE.findall(mig.sql)}


def _latest(dialect: str) -> int:
    from familybot.db.migrate import available_migrations

    return available_migrations(dialect)[-1].number


def _version_problem(where: str, version: int, latest: int) -> str | None:
    if version == latest:
        return None
    if version > latest:
        return (
            f"{where} is at schema version {version}, newer than this FamilyBot knows "
            f"({latest}). Upgrade FamilyBot first, then copy. Nothing was changed."
        )
    return (
        f"{where} is at schema version {version}; this FamilyBot's is {latest}. Run "
        "`familybot migrate` first (it upgrades that database in place), then copy again. "
        "Nothing was changed."
    )


# --- SQLite -> PostgreSQL ------------------------------------------------------------------


def _open_sqlite_source(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise CopyError(f"There is no SQLite database at {path}. Check DATABASE_PATH.")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as exc:
        raise CopyError(f"{path} is not a readable SQLite database ({exc}).") from exc
    if app_id != APPLICATION_ID:
        conn.close()
        raise CopyError(
            f"{path} does not carry FamilyBot's mark. If it is FamilyBot's database, run "
            "`familybot migrate` once (it marks it), then copy again. Nothing was changed."
        )
    problem = _version_problem(str(path), version, _latest("sqlite"))
    if problem:
        conn.close()
        raise CopyError(problem)
    return conn


async def _prepare_postgres(url: str) -> str:
    """Migrate the target (refusing another program's database); its server version."""
    from familybot.db.base import DatabaseUnavailable
    from familybot.db.migrate import migrate
    from familybot.db.postgres import PostgresDatabase

    try:
        db = await PostgresDatabase.open_url(url, max_size=1)
    except DatabaseUnavailable as exc:
        raise CopyError(f"{exc} Nothing was changed.") from exc
    try:
        await migrate(db)
        return await db.server_version()
    except DatabaseUnavailable as exc:
        raise CopyError(f"{exc} Nothing was changed.") from exc
    finally:
        await db.close()


async def copy_sqlite_to_postgres(path: Path, url: str) -> CopyReport:
    src = _open_sqlite_source(path)
    try:
        await _prepare_postgres(url)
        try:
            conn = await asyncpg.connect(url, timeout=10)
        except (OSError, asyncpg.PostgresError) as exc:
            raise CopyError(f"Cannot open {redact(url)}: {exc}. Nothing was changed.") from exc
        try:
            src.execute("BEGIN")  # one read snapshot of the source
            report = await _sqlite_to_postgres(src, conn, str(path), redact(url))
        finally:
            if src.in_transaction:
                src.execute("ROLLBACK")
            await conn.close()
    finally:
        src.close()
    return report


async def _sqlite_to_postgres(
    src: sqlite3.Connection, conn: Any, source: str, target: str
) -> CopyReport:
    s_tables = sqlite_tables(src)
    counts: list[tuple[str, int]] = []
    async with conn.transaction():
        # Every FamilyBot process takes this lock for each write (but an interaction claim,
        # Database.insert_once): none writes meanwhile.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK_KEY)
        t_tables = await postgres_tables(conn)
        common, left_out, rebuilt = match_tables(s_tables, t_tables)
        seeded = seeded_tables("postgresql")
        busy = []
        for name in sorted(t_tables):
            n = int(await conn.fetchval(f"SELECT count(*) FROM {quote(name)}"))
            if n and name not in seeded:
                busy.append((name, n))
        if busy:
            raise refuse_rows(busy, target)
        for name in sorted(seeded & set(common)):
            await conn.execute(f"DELETE FROM {quote(name)}")
        for name in insert_order(t_tables, common):
            counts.append((name, await _pg_copy_table(src, conn, t_tables[name])))
        autoinc = sqlite_counters(src)
        counters = 0
        for table, column, seq, _ in await postgres_counters(conn):
            if table not in common:
                continue
            top = await conn.fetchval(f"SELECT max({quote(column)}) FROM {quote(table)}")
            value = max(int(top or 0), autoinc.get(table, 0))
            if value:
                await conn.execute("SELECT setval($1::regclass, $2, true)", seq, value)
            else:  # nothing copied: the next id is the sequence's start
                await conn.execute("SELECT setval($1::regclass, 1, false)", seq)
            counters += 1
    version = int(src.execute("PRAGMA user_version").fetchone()[0])
    return CopyReport(source, target, version, counts, left_out, rebuilt, counters)


async def _pg_copy_table(src: sqlite3.Connection, conn: Any, table: Table) -> int:
    cols = table.column_names
    types = [c.type for c in table.columns]
    selfref = table.self_references() if table.primary_key else []
    later: list[tuple[Any, ...]] = []
    cursor = src.execute(f"SELECT {', '.join(quote(c) for c in cols)} FROM {quote(table.name)}")
    copied = 0
    while chunk := cursor.fetchmany(CHUNK):
        records = []
        for row in chunk:
            values = []
            for col, kind, value in zip(cols, types, row, strict=True):
                try:
                    values.append(to_postgres(value, kind))
                except (ValueError, TypeError) as exc:
                    raise CopyError(
                        f"A value in {table.name}.{col} cannot be stored as PostgreSQL "
                        f"{kind} ({exc}). Fix that row in the SQLite database, then copy "
                        "again. Nothing was changed."
                    ) from exc
            if selfref:  # a row may point at one not copied yet: filled in afterwards
                key = tuple(values[cols.index(k)] for k in table.primary_key)
                refs = tuple(values[cols.index(c)] for c in selfref)
                if any(r is not None for r in refs):
                    later.append((*refs, *key))
                for c in selfref:
                    values[cols.index(c)] = None
            records.append(tuple(values))
        try:
            await conn.copy_records_to_table(table.name, records=records, columns=cols)
        except asyncpg.PostgresError as exc:
            raise CopyError(
                f"PostgreSQL refused a row of {table.name}: {exc.__class__.__name__} "
                f"({exc}). Nothing was changed."
            ) from exc
        copied += len(records)
    if later:
        sets = ", ".join(f"{quote(c)} = ${i}" for i, c in enumerate(selfref, 1))
        where = " AND ".join(
            f"{quote(k)} = ${i}" for i, k in enumerate(table.primary_key, len(selfref) + 1)
        )
        await conn.executemany(f"UPDATE {quote(table.name)} SET {sets} WHERE {where}", later)
    return _verified(
        table.name,
        copied,
        int(src.execute(f"SELECT count(*) FROM {quote(table.name)}").fetchone()[0]),
        int(await conn.fetchval(f"SELECT count(*) FROM {quote(table.name)}")),
    )


def _verified(name: str, copied: int, source: int, target: int) -> int:
    if not copied == source == target:
        raise CopyError(
            f"The row counts of {name} do not match (source {source}, read {copied}, "
            f"target {target}), so the copy was rolled back. Nothing was changed."
        )
    return target


# --- PostgreSQL -> SQLite ------------------------------------------------------------------


def _new_file_place(path: Path) -> None:
    if os.path.lexists(path):
        raise CopyError(
            f"{path} already exists. `familybot db copy` writes a NEW SQLite file and never "
            "overwrites one: choose another name, or move that file away. Nothing was changed."
        )
    try:
        make_private_dir(path.parent)
    except OSError as exc:
        raise CopyError(f"Cannot create the folder {path.parent}: {exc.strerror}.") from exc


async def copy_postgres_to_sqlite(url: str, path: Path) -> CopyReport:
    _new_file_place(path)
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise CopyError(f"Cannot open {redact(url)}: {exc}. Nothing was changed.") from exc
    staged = path.with_name(f".{path.name}.copy-{secrets.token_hex(4)}")
    try:
        await _check_postgres_source(conn, redact(url))
        await _new_sqlite(staged)
        dst = sqlite3.connect(staged, isolation_level=None)
        try:
            dst.execute("PRAGMA foreign_keys = ON")
            dst.execute("BEGIN IMMEDIATE")
            dst.execute("PRAGMA defer_foreign_keys = ON")  # checked once, at the commit
            report = await _postgres_to_sqlite(conn, dst, redact(url), str(path))
            try:
                dst.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                raise CopyError(f"A reference between tables does not hold ({exc}).") from exc
        finally:
            if dst.in_transaction:
                dst.execute("ROLLBACK")
            dst.close()
        os.replace(staged, path)
    finally:
        await conn.close()
        for leftover in (staged, *(staged.with_name(staged.name + s) for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
    return report


async def _check_postgres_source(conn: Any, where: str) -> None:
    has = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    app_id = await conn.fetchval("SELECT max(application_id) FROM schema_version") if has else 0
    if app_id != APPLICATION_ID:
        raise CopyError(
            f"The database at {where} is not a FamilyBot database (no FamilyBot schema in it). "
            "Check DATABASE_URL. Nothing was changed."
        )
    version = int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version"))
    problem = _version_problem(where, version, _latest("postgresql"))
    if problem:
        raise CopyError(problem)


async def _new_sqlite(path: Path) -> None:
    from familybot.db.migrate import migrate
    from familybot.db.sqlite import SqliteDatabase

    db = await SqliteDatabase.open_file(path)
    try:
        await migrate(db)
    finally:
        await db.close()


async def _postgres_to_sqlite(
    conn: Any, dst: sqlite3.Connection, source: str, target: str
) -> CopyReport:
    counts: list[tuple[str, int]] = []
    counters = 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        s_tables = await postgres_tables(conn)
        t_tables = sqlite_tables(dst)
        common, left_out, rebuilt = match_tables(s_tables, t_tables)
        for name in sorted(seeded_tables("sqlite") & set(common)):
            dst.execute(f"DELETE FROM {quote(name)}")
        for name in insert_order(t_tables, common):
            counts.append((name, await _sqlite_copy_table(conn, dst, t_tables[name])))
        autoinc = sqlite_counters(dst)
        for table, _, _, last in await postgres_counters(conn):
            if table in autoinc and last is not None and last > autoinc[table]:
                dst.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (last, table))
                counters += 1
        version = int(await conn.fetchval("SELECT max(version) FROM schema_version"))
    return CopyReport(source, target, version, counts, left_out, rebuilt, counters)


async def _sqlite_copy_table(conn: Any, dst: sqlite3.Connection, table: Table) -> int:
    cols = table.column_names
    decls = [c.type for c in table.columns]
    names = ", ".join(quote(c) for c in cols)
    insert = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join('?' * len(cols))})"
    copied = 0
    chunk: list[tuple[Any, ...]] = []
    async for record in conn.cursor(f"SELECT {names} FROM {quote(table.name)}", prefetch=CHUNK):
        chunk.append(tuple(to_sqlite(v, d) for v, d in zip(record, decls, strict=True)))
        if len(chunk) >= CHUNK:
            copied += _insert(dst, insert, chunk, table.name)
            chunk = []
    copied += _insert(dst, insert, chunk, table.name)
    return _verified(
        table.name,
        copied,
        int(await conn.fetchval(f"SELECT count(*) FROM {quote(table.name)}")),
        int(dst.execute(f"SELECT count(*) FROM {quote(table.name)}").fetchone()[0]),
    )


def _insert(dst: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]], name: str) -> int:
    try:
        dst.executemany(sql, rows)
    except sqlite3.Error as exc:
        raise CopyError(f"SQLite refused a row of {name} ({exc}). Nothing was changed.") from exc
    return len(rows)
