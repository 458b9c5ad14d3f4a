"""What `familybot db copy` reads from each schema, and how values cross between the two.

Tables and columns are discovered from the live schema (never listed by hand), so a table a
new migration adds is copied without code changes. Bookkeeping is left out: SQLite's own
tables (sqlite_*), the shadow tables of its virtual tables (the FTS5 index), and
PostgreSQL's schema_version (each side keeps its own version). Generated columns (the
PostgreSQL search vector) are never copied: the target computes them.

Values are converted by the TARGET column's type, so the same rows come back after
SQLite -> PostgreSQL -> SQLite: booleans are 0/1 in SQLite, timestamps are SQLite's own text
form 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC (or seconds since 1970 in an INTEGER column),
bytes are BLOBs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

# PostgreSQL's bookkeeping table (familybot/db/postgres.py SCHEMA_TABLE).
PG_SKIP = frozenset({"schema_version"})


class CopyError(Exception):
    """The copy cannot go on; the message says why and what to do. Nothing was changed."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # PostgreSQL: data_type; SQLite: the declared type, upper case


@dataclass
class Table:
    name: str
    columns: list[Column]
    primary_key: list[str]
    # (column, parent table) for each foreign key
    parents: list[tuple[str, str]] = field(default_factory=list)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def self_references(self) -> list[str]:
        return [col for col, parent in self.parents if parent == self.name]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- SQLite (plain sqlite3: the copy runs in the command line, nothing else on the loop) ------


def sqlite_tables(conn: sqlite3.Connection) -> dict[str, Table]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [str(n) for n, sql in rows if str(sql or "").upper().startswith("CREATE VIRTUAL")]
    out: dict[str, Table] = {}
    for name, _sql in rows:
        name = str(name)
        if name.startswith("sqlite_") or name in virtual:
            continue
        if any(name.startswith(v + "_") for v in virtual):  # FTS5's shadow tables
            continue
        cols: list[Column] = []
        pk: list[tuple[int, str]] = []
        for info in conn.execute(f"PRAGMA table_xinfo({quote(name)})"):
            _, col, decl, _, _, pk_pos, hidden = info
            if hidden:  # generated (2, 3) or hidden (1): the target makes its own
                continue
            cols.append(Column(str(col), str(decl or "").upper()))
            if pk_pos:
                pk.append((int(pk_pos), str(col)))
        parents = [
            (str(fk[3]), str(fk[2]))
            for fk in conn.execute(f"PRAGMA foreign_key_list({quote(name)})")
        ]
        out[name] = Table(name, cols, [c for _, c in sorted(pk)], parents)
    return out


def sqlite_counters(conn: sqlite3.Connection) -> dict[str, int]:
    """AUTOINCREMENT counters (sqlite_sequence), which can be ahead of max(id)."""
    has = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).fetchone()[0]
    if not has:
        return {}
    return {str(n): int(s) for n, s in conn.execute("SELECT name, seq FROM sqlite_sequence")}


# --- PostgreSQL (asyncpg connection) --------------------------------------------------------


async def postgres_tables(conn: Any) -> dict[str, Table]:
    rows = await conn.fetch(
        "SELECT c.table_name, c.column_name, c.data_type, c.is_generated "
        "FROM information_schema.columns c JOIN information_schema.tables t "
        "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
        "ORDER BY c.table_name, c.ordinal_position"
    )
    out: dict[str, Table] = {}
    for r in rows:
        name = str(r["table_name"])
        if name in PG_SKIP:
            continue
        table = out.setdefault(name, Table(name, [], []))
        if r["is_generated"] == "ALWAYS":
            continue
        table.columns.append(Column(str(r["column_name"]), str(r["data_type"]).lower()))
    keys = await conn.fetch(
        "SELECT t.relname, k.contype::text AS contype, a.attname, pt.relname AS parent, u.n "
        "FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid "
        "JOIN pg_namespace s ON s.oid = t.relnamespace "
        "LEFT JOIN pg_class pt ON pt.oid = k.confrelid "
        "CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS u(col, n) "
        "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.col "
        "WHERE s.nspname = current_schema() AND k.contype IN ('p', 'f') "
        "ORDER BY t.relname, k.contype, u.n"
    )
    for k in keys:
        keyed = out.get(str(k["relname"]))
        if keyed is None:
            continue
        if k["contype"] == "p":
            keyed.primary_key.append(str(k["attname"]))
        else:
            keyed.parents.append((str(k["attname"]), str(k["parent"])))
    return out


async def postgres_counters(conn: Any) -> list[tuple[str, str, str, int | None]]:
    """(table, column, sequence, its last value or None) for every serial/identity column."""
    rows = await conn.fetch(
        "SELECT c.table_name, c.column_name, "
        "pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) AS seq "
        "FROM information_schema.columns c WHERE c.table_schema = current_schema()"
    )
    out: list[tuple[str, str, str, int | None]] = []
    for r in rows:
        if r["seq"] is None:
            continue
        last = await conn.fetchval(
            "SELECT last_value FROM pg_sequences WHERE format('%I.%I', schemaname, "
            "sequencename)::regclass = $1::regclass",
            r["seq"],
        )
        out.append((str(r["table_name"]), str(r["column_name"]), str(r["seq"]), last))
    return out


# --- which tables ---------------------------------------------------------------------------


# Search vocabulary both backends keep for typo tolerance, filled by their own triggers from
# the resources as those arrive: never copied (each side builds its own), listed as rebuilt.
DERIVED = frozenset({"resource_terms"})


def match_tables(source: dict[str, Table], target: dict[str, Table]) -> tuple[list[str], ...]:
    derived = sorted(DERIVED & set(source) & set(target))
    source = {k: v for k, v in source.items() if k not in DERIVED}
    common = sorted(set(source) & set(target) - DERIVED)
    for name in common:
        have, want = set(source[name].column_names), set(target[name].column_names)
        if have != want:
            raise CopyError(
                f"The table {name} has different columns on the two sides (only in the "
                f"source: {sorted(have - want) or 'none'}; only in the target: "
                f"{sorted(want - have) or 'none'}). Both must be at the same schema version. "
                "Nothing was changed."
            )
    rebuilt = sorted((set(target) - set(source) - DERIVED) | set(derived))
    return common, sorted(set(source) - set(target)), rebuilt


def refuse_rows(busy: Sequence[tuple[str, int]], where: str) -> CopyError:
    listed = ", ".join(f"{name} ({n} rows)" for name, n in busy[:5])
    more = f" and {len(busy) - 5} more tables" if len(busy) > 5 else ""
    return CopyError(
        f"The database at {where} already holds data: {listed}{more}. `familybot db copy` "
        "only copies into an empty database, so nothing is overwritten. Create a new, empty "
        "database (e.g. `createdb -O familybot familybot_new`) and copy into that. Nothing "
        "was changed."
    )


# --- insert order ----------------------------------------------------------------------------


def insert_order(tables: dict[str, Table], names: list[str]) -> list[str]:
    """Parents before children (a table's own references are filled in afterwards)."""
    wanted = set(names)
    done: list[str] = []
    placed: set[str] = set()
    pending = sorted(names)
    while pending:
        ready = [
            n
            for n in pending
            if all(p in placed or p == n or p not in wanted for _, p in tables[n].parents)
        ]
        if not ready:
            raise CopyError(
                "The tables " + ", ".join(pending) + " refer to each other in a circle, "
                "which `familybot db copy` cannot order. Nothing was changed."
            )
        for n in ready:
            done.append(n)
            placed.add(n)
        pending = [n for n in pending if n not in placed]
    return done


# --- values ----------------------------------------------------------------------------------


def _sqlite_time_text(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")


def _parse_time(value: Any, aware: bool) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        parsed = datetime.fromtimestamp(value, UTC)
    else:
        parsed = datetime.fromisoformat(str(value))
    if aware:
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _to_int(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, int | str) and not isinstance(value, float):
        return int(value)  # bool is an int; a numeric string from SQLite's loose typing
    raise ValueError(f"{type(value).__name__} is not a whole number")


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"1", "t", "true", "yes", "on"}:
            return True
        if lowered in {"0", "f", "false", "no", "off"}:
            return False
        raise ValueError(f"{value!r} is not true or false")
    return bool(_to_int(value))


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def _to_text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8")
    return str(value)


_PG: dict[str, Callable[[Any], Any]] = {
    "bigint": _to_int,
    "integer": _to_int,
    "smallint": _to_int,
    "boolean": _to_bool,
    "bytea": _to_bytes,
    "text": _to_text,
    "character varying": _to_text,
    "character": _to_text,
    "json": _to_text,
    "jsonb": _to_text,
    "timestamp with time zone": lambda v: _parse_time(v, aware=True),
    "timestamp without time zone": lambda v: _parse_time(v, aware=False),
    "date": lambda v: v if isinstance(v, date) else date.fromisoformat(str(v)),
    "double precision": float,
    "real": float,
    "numeric": lambda v: Decimal(str(v)),
}


def to_postgres(value: Any, pg_type: str) -> Any:
    """A value read from SQLite, as asyncpg writes a column of this PostgreSQL type."""
    if value is None:
        return None
    convert = _PG.get(pg_type)
    return value if convert is None else convert(value)


def to_sqlite(value: Any, declared: str) -> Any:
    """A value read from PostgreSQL, as SQLite stores it in a column declared `declared`."""
    if value is None or isinstance(value, str | bytes):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, datetime):
        if "INT" in declared:  # seconds since 1970
            stamp = value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()
            return int(stamp) if float(stamp).is_integer() else stamp
        return _sqlite_time_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if "INT" in declared and value == value.to_integral_value():
            return int(value)
        return str(value) if "TEXT" in declared or "CHAR" in declared else float(value)
    if isinstance(value, int | float):
        return value
    return str(value)
