"""The trigram index of the search words, for typo-tolerant /resource search: SQLite's own
gram table (migration 0018); on PostgreSQL pg_trgm's GIN indexes of the same vocabulary
(migration 0020, filled by a trigger from the full-text index's lexemes).

ResourceRepository (resources.py) has these calls too: it is built on ResourceTermIndex."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

from familybot.db.connection import Database

# resources_fts's tokenizer (migration 0006); the trigram index tokenizes new text with it.
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"

# Trigrams and bigrams of the words just tokenized into the scratch table, exactly as
# migration 0018 made them for the words already in the library.
_GRAMS_OF_SCRATCH_TERMS = (
    "INSERT OR IGNORE INTO resource_term_grams (gram, term_id) "
    "WITH RECURSIVE piece (term_id, padded, i) AS ("
    " SELECT t.id, '  ' || t.term || ' ', 1 FROM temp.resource_tok_vocab v"
    " CROSS JOIN resource_terms t ON t.term = v.term"  # vocab first: its look-ups are slow
    " UNION ALL SELECT term_id, padded, i + 1 FROM piece WHERE i + 3 <= length(padded)"
    ") SELECT substr(padded, i, 3), term_id FROM piece"
    " UNION ALL SELECT substr(padded, i + 2, 2), term_id FROM piece WHERE i + 3 < length(padded)"
)

# Each approved resource's words as bm25 weighs them (migration 0026): the word's count, each
# occurrence by its column's weight (SQLITE_BM25's), and the resource's length in words.
_WEIGHTS_OF_SCRATCH_RESOURCES = (
    "INSERT INTO resource_term_weights (term, guild_id, weight, length, resource_id) "
    "SELECT i.term, r.guild_id, sum(CASE i.col WHEN 'title' THEN 10 WHEN 'description' THEN 2 "
    "WHEN 'category' THEN 3 ELSE 1 END), d.n, i.doc FROM temp.resource_tok_instance i "
    "JOIN (SELECT doc, count(*) AS n FROM temp.resource_tok_instance GROUP BY doc) d "
    "ON d.doc = i.doc JOIN resources r ON r.id = i.doc WHERE r.status = 'approved' "
    "GROUP BY i.term, i.doc"
)

_tokenizer: sqlite3.Connection | None = None
_tokenizer_lock = threading.Lock()


def fts_tokens(text: str) -> list[str]:
    """The tokens resources_fts makes of `text`, as it does of a typed word, from a private
    in-memory FTS5 table with the same tokenizer (tens of microseconds, no database trip)."""
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            _tokenizer = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            _tokenizer.execute(
                f"CREATE VIRTUAL TABLE tok USING fts5 (t, content = '', tokenize = '{FTS_TOKENIZER}')"
            )
            _tokenizer.execute("CREATE VIRTUAL TABLE tok_words USING fts5vocab (tok, 'instance')")
        _tokenizer.execute("INSERT INTO tok (rowid, t) VALUES (1, ?)", (text,))
        try:
            return [r[0] for r in _tokenizer.execute("SELECT term FROM tok_words ORDER BY offset")]
        finally:
            _tokenizer.execute("INSERT INTO tok (tok) VALUES ('delete-all')")


def after_prefix(prefix: str) -> str:
    """The first string after every string that starts with `prefix` (SQLite's BINARY order
    is the code points' order): `prefix` with its last character one higher."""
    last = ord(prefix[-1])
    return prefix[:-1] + chr(last + 1) if last < 0x10FFFF else prefix + chr(0x10FFFF)


def trigrams(word: str) -> set[str]:
    """A word's trigrams, padded as pg_trgm pads: two spaces before, one after."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def query_trigrams(term: str) -> set[str]:
    """What a typed word is looked up by: its own trigrams, and the end trigram of each of
    its prefixes (a word that is a typo of a prefix of `term` ends like that prefix)."""
    return trigrams(term) | {f"{term[k - 2 : k]} " for k in range(2, len(term))}


def query_bigrams(term: str) -> set[str]:
    return {term[i : i + 2] for i in range(len(term) - 1)}


# PostgreSQL (migration 0020): the column its bigram index covers (the word with '0' after
# each character).
BIGRAM_EXPRESSION = "pairs"


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def gram_pattern(gram: str) -> str:
    """A padded trigram as the LIKE pattern of the words holding it (pg_trgm extracts the
    same padded trigrams from the pattern, so the GIN index answers it): '  a' and ' ab'
    start a word, 'bc ' ends one, ' a ' is the whole word, 'abc' is anywhere."""
    if gram.startswith(" ") and gram.endswith(" "):
        return _like(gram.strip())
    if gram.startswith(" "):
        return _like(gram.strip()) + "%"
    if gram.endswith(" "):
        return "%" + _like(gram.strip())
    return f"%{_like(gram)}%"


class ResourceTermIndex:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def close_term_candidates(
        self, term: str, shortest: int, longest: int, *, bigrams: bool = False
    ) -> list[str]:
        """Index words `shortest`..`longest` characters long that share a trigram with `term`
        (padded as pg_trgm pads, plus the end trigram of each of `term`'s prefixes), or with
        `bigrams`, an (unpadded) bigram. Trigram candidates come in the index's order (as
        resources_vocab lists them), bigram candidates in no order.
        May include words the search index no longer holds: see drop_gone_terms.

        On PostgreSQL the same grams are asked of pg_trgm's indexes (migration 0020)."""
        if self._db.is_postgres:
            return await self._postgres_candidates(term, shortest, longest, bigrams=bigrams)
        await self.index_new_terms()
        grams = sorted(query_bigrams(term) if bigrams else query_trigrams(term))
        if not grams:
            return []
        marks = ",".join("?" * len(grams))
        found = (
            "SELECT t.term FROM (SELECT DISTINCT term_id FROM resource_term_grams "
            f"WHERE gram IN ({marks})) g JOIN resource_terms t ON t.id = g.term_id "
            "WHERE t.length BETWEEN ? AND ?"
        )
        params = (*grams, shortest, longest)
        if bigrams:
            # Possibly very many words, in no particular order: one string (a word never holds
            # a space), split in C, so the event loop does not build a row per word.
            joined = await self._db.fetchval(
                f"SELECT group_concat(term, ' ') FROM ({found})", params
            )
            return joined.split(" ") if joined else []
        rows = await self._db.fetchall(found + " ORDER BY t.term", params)
        return [r["term"] for r in rows]

    async def _postgres_candidates(
        self, term: str, shortest: int, longest: int, *, bigrams: bool
    ) -> list[str]:
        """close_term_candidates on PostgreSQL: each gram as a LIKE pattern pg_trgm answers
        from its GIN index (migration 0020): the same words SQLite's gram table gives."""
        if bigrams:
            # A bigram 'ab' is the trigram 'a0b' of the word with '0' after each letter.
            patterns = sorted(f"%{_like(g[0] + '0' + g[1])}%" for g in query_bigrams(term))
            column = BIGRAM_EXPRESSION
        else:
            patterns = sorted(gram_pattern(g) for g in query_trigrams(term))
            column = "term"
        if not patterns:
            return []
        # ~~ is LIKE itself (the dialect would make a spelled-out LIKE a slower ILIKE); one
        # array of patterns is one bitmap scan of the GIN index.
        found = (
            f"SELECT term FROM resource_terms WHERE {column} ~~ ANY (?) AND length BETWEEN ? AND ?"
        )
        params = (patterns, shortest, longest)
        if bigrams:  # possibly very many: one string, split in C (as on SQLite)
            joined = await self._db.fetchval(
                f"SELECT string_agg(term, ' ') FROM ({found}) f", params
            )
            return joined.split(" ") if joined else []
        rows = await self._db.fetchall(found, params)
        return sorted(r["term"] for r in rows)

    async def _not_held(self, words: Sequence[str]) -> list[str]:
        """Which of `words` no resource's search vector holds now: one statement (an index
        look-up per word on the server), not a round trip per word."""
        queries = {"'" + w.replace("'", "''").replace("\\", "\\\\") + "'": w for w in words}
        rows = await self._db.fetchall(
            "SELECT q FROM unnest(CAST(? AS text[])) AS q WHERE NOT EXISTS "
            "(SELECT 1 FROM resources WHERE search_vector @@ CAST(q AS tsquery))",
            (list(queries),),
        )
        return [queries[r[0]] for r in rows]

    async def _postgres_gone(self, words: Sequence[str]) -> list[str]:
        """Which of `words` no resource's search vector holds now. Those are asked again
        under the write lock before they go: a resource saved while the delete waited for
        the lock keeps its word."""
        gone = await self._not_held(words)
        if not gone:
            return []
        async with self._db.transaction():
            gone = await self._not_held(gone)
            await self._db.executemany(
                "DELETE FROM resource_terms WHERE term = ?", [(w,) for w in gone]
            )
        return sorted(gone)

    async def drop_gone_terms(self, words: Sequence[str]) -> list[str]:
        """Which of `words` the search index no longer holds (their last resource went or
        changed); they leave the trigram index. A look-up per word, not a scan."""
        if not words:
            return []
        if self._db.is_postgres:
            return await self._postgres_gone(words)
        marks = ",".join("?" * len(words))
        rows = await self._db.fetchall(
            f"SELECT term FROM resources_vocab WHERE term IN ({marks})", list(words)
        )
        gone = sorted(set(words) - {r["term"] for r in rows})
        if gone:
            async with self._db.transaction():
                for word in gone:
                    term_id = await self._db.fetchval(
                        "SELECT id FROM resource_terms WHERE term = ?", (word,)
                    )
                    grams = sorted(trigrams(word) | query_bigrams(word))
                    await self._db.executemany(
                        "DELETE FROM resource_term_grams WHERE gram = ? AND term_id = ?",
                        [(g, term_id) for g in grams],
                    )
                    await self._db.execute("DELETE FROM resource_terms WHERE id = ?", (term_id,))
        return gone

    async def index_new_terms(self, batch: int = 500) -> int:
        """Add the words of resources written since the last call to the trigram index.

        The words come from the search index's own tokenizer: the queued resources are
        tokenized in a scratch contentless FTS5 table with the same settings. Returns how
        many resources were read. Nothing to do on PostgreSQL (a trigger adds the words)."""
        if self._db.is_postgres:
            return 0
        done = 0
        while await self._db.fetchval("SELECT 1 FROM resource_terms_todo LIMIT 1"):
            async with self._db.transaction():
                await self._scratch_tokenizer()
                ids = [
                    r[0]
                    for r in await self._db.fetchall(
                        "SELECT resource_id FROM resource_terms_todo ORDER BY resource_id LIMIT ?",
                        (batch,),
                    )
                ]
                marks = ",".join("?" * len(ids))
                await self._db.execute(
                    "INSERT INTO temp.resource_tok (rowid, title, description, category, "
                    "audience, region) SELECT id, title, description, category, audience, "
                    f"region FROM resources WHERE id IN ({marks})",
                    ids,
                )
                await self._db.execute(
                    "INSERT OR IGNORE INTO resource_terms (term, length) "
                    "SELECT term, length(term) FROM temp.resource_tok_vocab"
                )
                await self._db.execute(_GRAMS_OF_SCRATCH_TERMS)
                await self._db.execute(
                    f"DELETE FROM resource_term_weights WHERE resource_id IN ({marks})", ids
                )
                await self._db.execute(_WEIGHTS_OF_SCRATCH_RESOURCES)
                await self._db.execute(
                    "INSERT INTO temp.resource_tok (resource_tok) VALUES ('delete-all')"
                )
                await self._db.execute(
                    f"DELETE FROM resource_terms_todo WHERE resource_id IN ({marks})", ids
                )
            done += len(ids)
        return done

    async def _scratch_tokenizer(self) -> None:
        await self._db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.resource_tok USING fts5 ("
            "title, description, category, audience, region, content = '', "
            f"tokenize = '{FTS_TOKENIZER}')"
        )
        await self._db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.resource_tok_vocab "
            "USING fts5vocab (temp, resource_tok, 'row')"
        )
        await self._db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.resource_tok_instance "
            "USING fts5vocab (temp, resource_tok, 'instance')"
        )
