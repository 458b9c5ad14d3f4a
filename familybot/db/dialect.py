"""Every difference between SQLite and PostgreSQL, in one place.

Repositories write one SQL text, in the SQLite spelling they always had (`?` placeholders,
`:name` parameters, `INSERT OR IGNORE`, `instr`, `COLLATE NOCASE`, SQLite's case-blind
LIKE). The PostgreSQL dialect rewrites that text once per statement (cached) into what
PostgreSQL means by the same thing. Where a statement truly differs (full-text search,
schema introspection), the dialect gives the statement, not the repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# A write lock shared by every FamilyBot process on one PostgreSQL database: taken by each
# transaction (pg_advisory_xact_lock), so transactions are serialised exactly as SQLite's
# BEGIN IMMEDIATE serialises them. "FBOTwrit" as a signed 64-bit number.
WRITE_LOCK_KEY = 0x46424F5477726974
# Each process's liveness lock is (CLAIM_LOCK_SPACE, its token) (familybot/db/peers.py):
# "FBot" as a signed 32-bit number, the first key of the two-key advisory lock.
CLAIM_LOCK_SPACE = 0x46426F74


@dataclass(frozen=True)
class Translated:
    sql: str
    names: tuple[str, ...] | None  # for :name parameters, the order they bind in
    count: int  # how many positional placeholders
    insert_table: str | None  # INSERT INTO <table> (for lastrowid)
    # Parameters PostgreSQL cannot type from their place ("? IS NULL"): typed per call.
    untyped: tuple[int, ...] = ()


# Strings, quoted identifiers and comments pass through untouched; the rest is scanned.
_TOKEN_RE = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|\?|(?<!:):([A-Za-z_][A-Za-z0-9_]*)""",
    re.S,
)
_INSERT_OR_IGNORE_RE = re.compile(r"\bINSERT\s+OR\s+IGNORE\s+INTO\b", re.I)
_INSERT_TABLE_RE = re.compile(r"^\s*INSERT\s+INTO\s+\"?([A-Za-z_][A-Za-z0-9_]*)", re.I)
_RETURNING_RE = re.compile(r"\bRETURNING\b", re.I)
_ON_CONFLICT_RE = re.compile(r"\bON\s+CONFLICT\b", re.I)
_INSTR_RE = re.compile(r"\binstr\s*\(", re.I)
_NOCASE_RE = re.compile(
    r"((?:[A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*)\s+COLLATE\s+NOCASE", re.I
)
_LIKE_RE = re.compile(r"\bLIKE\b", re.I)
# SQLite takes an integer as a condition (CASE WHEN ? THEN); PostgreSQL wants a boolean.
_WHEN_PARAM_RE = re.compile(r"\bWHEN\s+(\$\d+)\s+THEN\b", re.I)


def _pg_words(part: str) -> str:
    part = _INSTR_RE.sub("strpos(", part)
    part = _NOCASE_RE.sub(r"lower(\1)", part)
    # SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE is the same promise.
    return _LIKE_RE.sub("ILIKE", part)


@lru_cache(maxsize=2048)
def translate_postgres(sql: str) -> Translated:
    """SQLite-spelled SQL -> PostgreSQL: placeholders, upserts, functions, LIKE."""
    ignore = bool(_INSERT_OR_IGNORE_RE.search(sql))
    if ignore:
        sql = _INSERT_OR_IGNORE_RE.sub("INSERT INTO", sql, count=1)
    out: list[str] = []
    names: list[str] = []
    count = 0
    last = 0
    for m in _TOKEN_RE.finditer(sql):
        token = m.group(0)
        # What lies between tokens holds no string literal, identifier or comment.
        out.append(_pg_words(sql[last : m.start()]))
        if token == "?":
            count += 1
            out.append(f"${count}")
        elif m.group(1):
            name = m.group(1)
            if name not in names:
                names.append(name)
            out.append(f"${names.index(name) + 1}")
        else:
            out.append(token)  # a string, a quoted identifier or a comment: as written
        last = m.end()
    out.append(_pg_words(sql[last:]))
    text = "".join(out).rstrip().rstrip(";")
    text = _WHEN_PARAM_RE.sub(r"WHEN \1::bigint <> 0 THEN", text)
    if ignore and not _ON_CONFLICT_RE.search(text):
        returning = _RETURNING_RE.search(text)
        if returning:
            text = text[: returning.start()] + "ON CONFLICT DO NOTHING " + text[returning.start() :]
        else:
            text += " ON CONFLICT DO NOTHING"
    if names and count:
        raise ValueError("a statement mixes ? and :name placeholders")
    table = _INSERT_TABLE_RE.match(text)
    untyped = tuple(int(m.group(1)) for m in _UNTYPED_RE.finditer(text))
    return Translated(
        text,
        tuple(names) if names else None,
        count,
        table.group(1).lower() if table else None,
        untyped,
    )


_UNTYPED_RE = re.compile(r"\$(\d+)(?=\s+IS\s+(?:NOT\s+)?NULL\b)", re.I)


def _pg_type(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, float):
        return "double precision"
    return "bigint"  # ints, and NULL (whose type does not change what IS NULL says)


@lru_cache(maxsize=2048)
def _typed_sql(sql: str, types: tuple[tuple[int, str], ...]) -> str:
    by_number = dict(types)
    return _UNTYPED_RE.sub(lambda m: f"${m.group(1)}::{by_number[int(m.group(1))]}", sql)


def postgres_sql(translated: Translated, args: Sequence[Any]) -> str:
    """The statement text for these arguments (casts where PostgreSQL cannot infer a type)."""
    if not translated.untyped:
        return translated.sql
    types = tuple((n, _pg_type(args[n - 1])) for n in sorted(set(translated.untyped)))
    return _typed_sql(translated.sql, types)


def postgres_args(translated: Translated, params: Sequence[Any] | Mapping[str, Any]) -> list[Any]:
    """Parameters in $n order; booleans as 0/1 (FamilyBot's flags are integer columns)."""
    if translated.names is not None:
        if not isinstance(params, Mapping):
            raise TypeError("named parameters need a mapping")
        values: Iterable[Any] = (params[n] for n in translated.names)
    else:
        if isinstance(params, Mapping):
            raise TypeError("? placeholders need a sequence")
        values = params
    return [int(v) if isinstance(v, bool) else v for v in values]


def rowcount_from_status(status: str) -> int:
    """asyncpg's command tag ("UPDATE 3", "INSERT 0 1") -> rows affected (-1 when none)."""
    parts = status.split()
    if parts and parts[-1].isdigit() and parts[0] in {"INSERT", "UPDATE", "DELETE", "MERGE"}:
        return int(parts[-1])
    return -1


# --- full-text search ---------------------------------------------------------------------------

# The FTS5 expressions the resource search builds: ("word" OR "word"* OR "near") AND (...)
_FTS_TOKEN_RE = re.compile(r'"([^"]*)"(\*)?|\(|\)|\bAND\b|\bOR\b')
_FTS_WORD_RE = re.compile(r'"(\w+)"')


def fts5_to_tsquery(match: str) -> str:
    """Turn the resource search's FTS5 expression into a to_tsquery() text.

    Terms are \\w+ (the service quotes them), so each becomes one quoted lexeme; a trailing
    * is a prefix match (:*), AND/OR become & and |.
    """
    out: list[str] = []
    for m in _FTS_TOKEN_RE.finditer(match):
        token = m.group(0)
        if m.group(1) is not None:
            word = re.sub(r"[^\w]", "", m.group(1))
            if not word:
                continue
            out.append(f"'{word}'" + (":*" if m.group(2) else ""))
        elif token == "AND":
            out.append("&")
        elif token == "OR":
            out.append("|")
        else:
            out.append(token)
    return " ".join(out)


# Ranked as SQLite's bm25(resources_fts, 10.0, 2.0, 3.0, 1.0, 1.0): the same field weights
# relative to the title's (title A 1.0, category B 0.3, description C 0.2, audience and region
# D 0.1; ts_rank's array is {D, C, B, A}), and, as bm25 does, a longer document weighs a match
# less (normalization 1: the rank over 1 + log(words)). tests/unit/test_resource_search_backends
# holds both backends to the same top results.
# The best `limit` are picked from (id, rank) pairs of the narrow table of approved
# resources' search vectors (migration 0024), then only their rows are read whole: a common
# word's 15k matches at 100k resources no longer each read and carry a whole row (issue 15:
# about 40% of the statement; the same rows in the same order).
POSTGRES_RESOURCE_SEARCH = (
    "SELECT r.* FROM (SELECT m.id, ts_rank('{{0.1, 0.2, 0.3, 1.0}}', m.search_vector, q, 1) AS s "
    "FROM resource_search m, to_tsquery('english', $1) q "
    "WHERE m.search_vector @@ q AND m.guild_id = $2{category} "
    "ORDER BY s DESC, m.id LIMIT {limit}) best JOIN resources r ON r.id = best.id "
    "WHERE r.status = 'approved' ORDER BY best.s DESC, r.id"
)
SQLITE_RESOURCE_SEARCH = (
    "SELECT r.* FROM resources_fts JOIN resources r ON r.id = resources_fts.rowid "
    "WHERE resources_fts MATCH ? AND r.guild_id = ? AND r.status = 'approved'{category} "
    "ORDER BY bm25(resources_fts, 10.0, 2.0, 3.0, 1.0, 1.0), r.id LIMIT {limit}"
)
# The best `window` matches by the index alone (no row of resources read per match), then
# filtered: when that leaves `limit` rows they are exactly the full statement's first `limit`
# (both order by the same score, then id). Ranking a common word's 15k matches this way
# skips 15k row look-ups; the repository runs the full statement when fewer are left.
SQLITE_RESOURCE_SEARCH_WINDOW = (
    "SELECT r.* FROM (SELECT rowid AS rid, bm25(resources_fts, 10.0, 2.0, 3.0, 1.0, 1.0) AS s "
    "FROM resources_fts WHERE resources_fts MATCH ? ORDER BY s, rowid LIMIT ?) f "
    "JOIN resources r ON r.id = f.rid "
    "WHERE r.guild_id = ? AND r.status = 'approved'{category} ORDER BY f.s, r.id LIMIT ?"
)

# One word typed alone ('"word"', the typo search's usual close word) at 100k resources: a
# common word's 15k matches were each scored to show ten (issue 15). Its best are found from
# what migration 0026 keeps per word and approved resource, with the same scores and order.
# SQLite: for one phrase bm25 is the same positive idf times f(weight, length), rising with
# the word's weighted count and falling with the resource's length; so the best `limit` are
# among the `limit` shortest (then lowest id) of each distinct weight (any other resource has
# `limit` of the same weight at least as short, each scored at least as well and, on an
# equal length, ahead by id; a length differing by a word moves the score far more than a
# double's rounding). Those few are scored by FTS5's bm25 itself (+rowid: a filter on the
# match, not a look-up per id, which reruns the match) and ordered as the full statement.
SQLITE_WORD_WEIGHTS = (
    "WITH RECURSIVE f (weight) AS (SELECT max(weight) FROM resource_term_weights "
    "WHERE term = ? AND guild_id = ? UNION ALL SELECT (SELECT max(w.weight) "
    "FROM resource_term_weights w WHERE w.term = ? AND w.guild_id = ? AND w.weight < f.weight) "
    "FROM f WHERE f.weight IS NOT NULL) "
    "SELECT (SELECT group_concat(weight, ' ') FROM f WHERE weight IS NOT NULL) AS weights, "
    # "word"* is "word" when no other word of the index starts so (the same instances, the
    # same idf: twice the same score); the words between the two bounds are those others.
    "EXISTS (SELECT 1 FROM resource_terms WHERE term > ? AND term < ?) AS others"
)
_SQLITE_WORD_PICK = (
    "SELECT resource_id FROM (SELECT resource_id FROM resource_term_weights "
    "WHERE term = ? AND guild_id = ? AND weight = ? ORDER BY length, resource_id LIMIT ?)"
)
SQLITE_RESOURCE_WORD_SEARCH = (
    "SELECT r.* FROM (SELECT rowid AS rid, bm25(resources_fts, 10.0, 2.0, 3.0, 1.0, 1.0) AS s "
    "FROM resources_fts WHERE resources_fts MATCH ? AND +rowid IN ({picks})) f "
    "JOIN resources r ON r.id = f.rid "
    "WHERE r.guild_id = ? AND r.status = 'approved' ORDER BY f.s, r.id LIMIT ?"
)
_POSTGRES_LEXEME = (
    "SELECT btrim(querytree(q), '''') FROM to_tsquery('english', ?) q WHERE numnode(q) = 1"
)
# PostgreSQL: for one lexeme ts_rank depends on the resource's vector alone, so migration 0026
# stores it per lexeme, computed as here, and the best are read in order from an index.
# 'word' | 'word':* ranks as 'word' alone when no other lexeme starts so (ts_rank counts an
# operand once: the two are one).
POSTGRES_RESOURCE_WORD_SEARCH = (
    "SELECT r.* FROM (SELECT t.resource_id AS id, t.rank AS s FROM resource_term_ranks t "
    f"WHERE t.term = ({_POSTGRES_LEXEME}) AND t.guild_id = ?{{alone}} "
    "ORDER BY t.rank DESC, t.resource_id LIMIT {limit:d}) best "
    "JOIN resources r ON r.id = best.id WHERE r.status = 'approved' ORDER BY best.s DESC, r.id"
)
# Scalar subqueries, not joins: computed once before the scan, so even PostgreSQL's generic
# plan reads the index in order and stops after `limit` (a join sorted all 15k rows: 4.5 ms).
_POSTGRES_PREFIX_ALONE = (
    # The next lexeme in code-point order (resource_terms_next, migration 0026) is the only
    # one to look at: every lexeme that starts with the word comes right after it.
    ' AND NOT coalesce((SELECT starts_with(min(o.term COLLATE "C"), ('
    + _POSTGRES_LEXEME
    + ')) FROM resource_terms o WHERE o.term COLLATE "C" > ('
    + _POSTGRES_LEXEME
    + ")), false)"
)


class Dialect:
    name = "sqlite"
    # Appended to a row-claiming SELECT: rows another process is claiming are passed over.
    skip_locked = ""

    def live_claimants(self) -> str:
        """A subquery: the tokens of the live processes whose claims others must respect.

        SQLite runs on one host, each process on shards of its own: a claim that is not
        this process's belongs to a process that is gone (none is live but the caller)."""
        return "SELECT NULL WHERE 0 = 1"

    def resource_search(
        self, match: str, guild_id: int, category_key: str | None, limit: int
    ) -> tuple[str, list[Any]]:
        """The statement for an approved-resource search, best match first."""
        params: list[Any] = [match, guild_id]
        category = ""
        if category_key is not None:
            category = " AND r.category_key = ?"
            params.append(category_key)
        params.append(limit)
        return SQLITE_RESOURCE_SEARCH.format(category=category, limit="?"), params

    def resource_search_window(
        self, match: str, guild_id: int, category_key: str | None, limit: int, window: int
    ) -> tuple[str, list[Any]] | None:
        """A cheaper first try of resource_search (see SQLITE_RESOURCE_SEARCH_WINDOW); None
        where there is none."""
        params: list[Any] = [match, window, guild_id]
        category = ""
        if category_key is not None:
            category = " AND r.category_key = ?"
            params.append(category_key)
        params.append(limit)
        return SQLITE_RESOURCE_SEARCH_WINDOW.format(category=category), params

    def resource_word_search(
        self, match: str, guild_id: int, limit: int, token: str, weights: Sequence[int]
    ) -> tuple[str, list[Any]]:
        """The best `limit` approved resources for one word, as resource_search(`match`)
        ranks them (`match` is '("word")' or '("word" OR "word"*)'); on SQLite `token` is the
        word's one token and `weights` its weights (SQLITE_WORD_WEIGHTS)."""
        picks = " UNION ALL ".join([_SQLITE_WORD_PICK] * len(weights))
        params: list[Any] = [match]
        for weight in weights:
            params += [token, guild_id, weight, limit]
        return SQLITE_RESOURCE_WORD_SEARCH.format(picks=picks), [*params, guild_id, limit]

    def resource_vocabulary(self) -> str:
        """Every term (stem) of the search index now: the full scan typo matching once
        compared against, kept for checks (the candidates come from resource_terms)."""
        return "SELECT term FROM resources_vocab"


class PostgresDialect(Dialect):
    name = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def live_claimants(self) -> str:
        # A process's liveness lock goes with its connection (killed, exited, cut off).
        return (
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted "
            f"AND classid = {CLAIM_LOCK_SPACE} AND objsubid = 2 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )

    def resource_search(
        self, match: str, guild_id: int, category_key: str | None, limit: int
    ) -> tuple[str, list[Any]]:
        params: list[Any] = [fts5_to_tsquery(match), guild_id]
        category = ""
        if category_key is not None:
            category = " AND m.category_key = ?"
            params.append(category_key)
        params.append(limit)
        sql = POSTGRES_RESOURCE_SEARCH.replace("$1", "?").replace("$2", "?")
        return sql.format(category=category, limit="?"), params

    def resource_search_window(
        self, match: str, guild_id: int, category_key: str | None, limit: int, window: int
    ) -> tuple[str, list[Any]] | None:
        return None  # ts_rank reads each match's row anyway: nothing to save

    def resource_word_search(
        self, match: str, guild_id: int, limit: int, token: str, weights: Sequence[int]
    ) -> tuple[str, list[Any]]:
        word = _FTS_WORD_RE.search(match)
        assert word is not None
        alone = _POSTGRES_PREFIX_ALONE if "*" in match else ""
        sql = POSTGRES_RESOURCE_WORD_SEARCH.format(alone=alone, limit=limit)
        typed = f"'{word.group(1)}'"
        return sql, [typed, guild_id, *([typed, typed] if alone else [])]

    def resource_vocabulary(self) -> str:
        return "SELECT word AS term FROM ts_stat('SELECT search_vector FROM resources')"


SQLITE = Dialect()
POSTGRES = PostgresDialect()
