"""/resource search ranks alike on SQLite (FTS5, bm25) and PostgreSQL (tsvector, pg_trgm)
(issue 16), and its typo candidates come from an index of the search words on both.

Every test here runs on both backends (the `backend` fixture): the expected top results are
written once, by hand, so the two backends are held to the same answer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from familybot.db.connection import Database
from familybot.models.setup import Actor
from familybot.services.resources.fuzzy import close_term_lengths, close_terms
from familybot.wiring import Services

GUILD = 1
FAC_ROLE = 77
FAC = Actor(user_id=10, role_ids=frozenset({FAC_ROLE}), manage_guild=False, administrator=False)

LIBRARY = [
    # title, description, category
    ("Grief support for parents", "Meetings for parents after the death of a child", "Grief"),
    ("Bereavement helpline", "Call any evening to talk about a bereavement", "Helplines"),
    ("Siblings and loss", "Books for brothers and sisters who are grieving", "Reading"),
    ("Dementia carers circle", "Monthly meetings for people caring for a parent", "Caring"),
    ("Respite care finder", "Find short breaks for carers near you", "Caring"),
    ("Sleep and anxiety", "Why worry keeps teenagers awake and what helps", "Reading"),
    ("Anxiety toolkit", "Worksheets to manage anxiety at home", "Guides"),
    ("Money advice for families", "Benefits, debts and budgeting help", "Money"),
    ("Housing rights", "Help when a landlord wants you out", "Money"),
    ("School refusal guide", "When anxiety keeps a child away from school", "Guides"),
]

# (query, the top three titles, best first): exact words, stems, typos, several words, nothing.
EXPECTED = [
    ("anxiety", ["Anxiety toolkit", "Sleep and anxiety", "School refusal guide"]),
    ("bereavement", ["Bereavement helpline"]),
    ("grieving", ["Siblings and loss"]),  # stem: griev, not grief
    ("carers", ["Dementia carers circle", "Respite care finder"]),
    ("parents", ["Grief support for parents", "Dementia carers circle"]),
    ("bereavment", ["Bereavement helpline"]),  # typo
    ("dimentia", ["Dementia carers circle"]),  # typo
    ("anxeity", ["Anxiety toolkit", "Sleep and anxiety", "School refusal guide"]),  # typo
    ("housng rihgts", ["Housing rights"]),  # two typos
    ("sleep anxiety", ["Sleep and anxiety"]),  # both words: AND first
    ("money landlord", ["Housing rights"]),  # the category and the description
    # No resource has all three: any of them, the shorter title with two matches first.
    (
        "grief siblings helpline",
        ["Bereavement helpline", "Grief support for parents", "Siblings and loss"],
    ),
    ("xylophone", []),  # no match, no close word
    ("zz", []),
]


@pytest.fixture
async def library(services: Services) -> Services:
    await services.setup.set_facilitator_role(GUILD, FAC_ROLE)
    for i, (title, description, category) in enumerate(LIBRARY):
        await services.resources.add(
            GUILD,
            FAC,
            {
                "title": title,
                "url": f"https://example.org/r/{i}",
                "category": category,
                "description": description,
            },
        )
    return services


@pytest.mark.parametrize(("query", "top"), EXPECTED)
async def test_both_backends_rank_the_same_top_results(
    library: Services, query: str, top: list[str]
) -> None:
    found = await library.resources.search(GUILD, query)
    assert [r.title for r in found][:3] == top


def _shares_a_gram(term: str, word: str, *, bigrams: bool) -> bool:
    """Written apart from the repository: padded trigrams (plus the end of each prefix), or
    plain bigrams."""
    if bigrams:
        pieces = {term[i : i + 2] for i in range(len(term) - 1)}
        return any(p in word for p in pieces)
    padded = f"  {term} "
    grams = {padded[i : i + 3] for i in range(len(padded) - 2)}
    grams |= {f"{term[k - 2 : k]} " for k in range(2, len(term))}
    wp = f"  {word} "
    return bool(grams & {wp[i : i + 3] for i in range(len(wp) - 2)})


@pytest.mark.parametrize("typed", ["bereavment", "dimentia", "anxeity", "xylophone", "slep"])
async def test_typo_candidates_are_the_indexed_words_sharing_a_piece(
    library: Services, db: Database, typed: str
) -> None:
    """Not every word of the right length (PostgreSQL's old ts_stat scan): only those the
    trigram (or bigram) index can give, computed here from the whole vocabulary."""
    repo = library.resources._repo
    # 3,000 more words, none sharing a piece with the typed words' letters.
    await db.executemany(
        "INSERT INTO resources (guild_id, title, url, category, category_key, description, "
        "status, suggested_at) VALUES (?, 'Q', 'https://example.org/q', 'q', 'q', ?, "
        "'pending', 0)",
        [(GUILD, " ".join(f"q{i:04d}" for i in range(k, k + 500))) for k in range(0, 3000, 500)],
    )
    vocabulary = await repo.vocabulary()
    assert len(vocabulary) > 3000
    for bigrams in (False, True):
        low, high = close_term_lengths(typed, prefixes=not bigrams)
        want = sorted(
            w
            for w in vocabulary
            if low <= len(w) <= high and _shares_a_gram(typed, w, bigrams=bigrams)
        )
        got = await repo.close_term_candidates(typed, low, high, bigrams=bigrams)
        assert sorted(got) == want, bigrams
        assert not any(w.startswith("q") for w in got)
    # ... and the close words picked from them are the full scan's.
    assert await library.resources._close_terms(typed) == close_terms(typed, sorted(vocabulary))


async def test_a_word_whose_last_resource_went_is_not_offered(
    library: Services, db: Database
) -> None:
    await db.execute("DELETE FROM resources WHERE title = 'Dementia carers circle'")
    assert await library.resources.search(GUILD, "dimentia") == []
    assert "dementia" not in await library.resources._repo.vocabulary()


async def test_postgres_answers_the_candidates_from_its_trigram_indexes(
    library: Services, db: Database, backend: str
) -> None:
    """The look-ups the repository sends are ones pg_trgm's GIN indexes can answer (the plan
    names them when a scan of the table is ruled out), so no word list crosses to Python."""
    if backend != "postgres":
        pytest.skip("PostgreSQL's query plans")
    from familybot.db.repositories import resource_terms

    sent: list[tuple[str, tuple[object, ...]]] = []
    real_all, real_val = db.fetchall, db.fetchval

    async def spy_all(sql: str, params: Any = ()) -> Any:
        if "FROM resource_terms" in sql:
            sent.append((sql, tuple(params)))
        return await real_all(sql, params)

    async def spy_val(sql: str, params: Any = ()) -> Any:
        if "FROM resource_terms" in sql:
            sent.append((sql, tuple(params)))
        return await real_val(sql, params)

    db.fetchall, db.fetchval = spy_all, spy_val  # type: ignore[method-assign]
    repo = library.resources._repo
    await repo.close_term_candidates("dimentia", 4, 14)
    await repo.close_term_candidates("dimentia", 5, 14, bigrams=True)
    db.fetchall, db.fetchval = real_all, real_val  # type: ignore[method-assign]
    sent = [s for i, s in enumerate(sent) if s not in sent[:i]]  # fetchval may use fetchall
    assert len(sent) == 2 and resource_terms.BIGRAM_EXPRESSION in sent[1][0]
    for (sql, params), index in zip(
        sent, ("resource_terms_trgm", "resource_terms_bigram"), strict=True
    ):
        async with db.transaction():
            await db.execute("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in await db.fetchall("EXPLAIN " + sql, params))
        assert index in plan, plan


async def test_matches_outside_the_library_never_crowd_out_its_own(
    library: Services, db: Database
) -> None:
    """SQLite ranks the best matches by the index alone first (resources.SEARCH_WINDOW): when
    those are other servers' or pending resources, the full ranking still finds this one's."""
    from familybot.db.repositories.resources import SEARCH_WINDOW

    rows = [
        (GUILD + 1 if i % 2 else GUILD, f"Anxiety anxiety {i}", "anxiety anxiety anxiety")
        for i in range(SEARCH_WINDOW + 50)
    ]
    await db.executemany(
        "INSERT INTO resources (guild_id, title, url, category, category_key, description, "
        "status, suggested_at) VALUES (?, ?, 'https://example.org/a', 'Anxiety', 'anxiety', ?, "
        "CASE WHEN ? = 1 THEN 'approved' ELSE 'pending' END, 0)",
        [(g, t, d, 1 if g != GUILD else 0) for g, t, d in rows],
    )
    found = await library.resources.search(GUILD, "anxiety")
    assert [r.title for r in found] == [
        "Anxiety toolkit",
        "Sleep and anxiety",
        "School refusal guide",
    ]
    # Elsewhere, the other server's many matches come first, as the full ranking orders them.
    other = await library.resources.search(GUILD + 1, "anxiety")
    assert len(other) == 10 and all(r.title.startswith("Anxiety anxiety") for r in other)
    sql, params = db.dialect.resource_search('("anxiety" OR "anxiety"*)', GUILD + 1, None, 10)
    assert [r.id for r in other] == [r["id"] for r in await db.fetchall(sql, params)]


async def test_postgres_sorts_only_ids_and_ranks_of_the_matches(
    library: Services, db: Database, backend: str
) -> None:
    """#15: a common word matches thousands of resources; they are ranked from a narrow
    table of search vectors and their sort carries each match's id and rank, not its whole
    row (only the `limit` best are read whole), and the answer is the same."""
    if backend != "postgres":
        pytest.skip("PostgreSQL's query plans")
    match = '("dimentia" OR "dimentia"* OR "dementia" OR "carers")'
    sql, params = db.dialect.resource_search(match, GUILD, None, 10)
    rows = await db.fetchall("EXPLAIN (VERBOSE, FORMAT JSON) " + sql, params)
    raw = rows[0][0]
    plan = json.loads(raw) if isinstance(raw, str) else raw

    def nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
        return [node, *(n for child in node.get("Plans", []) for n in nodes(child))]

    # The scan of the matches (whichever the planner picks for so small a library): the
    # narrow table of search vectors (migration 0024), handing on an id and a rank.
    scans = [n for n in nodes(plan[0]["Plan"]) if "Relation Name" in n]
    matches = [n for n in scans if "ts_rank" in " ".join(n.get("Output", []))]
    assert len(matches) == 1, scans
    assert matches[0]["Relation Name"] == "resource_search"
    assert len(matches[0]["Output"]) == 2, matches[0]["Output"]  # id and rank, not the row
    found = [r["title"] for r in await db.fetchall(sql, params)]
    assert found == ["Dementia carers circle", "Respite care finder"]


async def test_a_changed_or_deleted_resource_is_searched_as_it_now_is(
    library: Services, db: Database
) -> None:
    """On PostgreSQL the ranking reads a table of the approved resources' search vectors
    (migration 0024) kept by a trigger: a changed title is found by its new word, not the old
    one; a deleted resource is found no more (on both backends)."""
    rid = int(await db.fetchval("SELECT id FROM resources WHERE title = 'Housing rights'"))
    await db.execute("UPDATE resources SET title = 'Tenancy rights' WHERE id = ?", (rid,))
    assert [r.id for r in await library.resources.search(GUILD, "tenancy")] == [rid]
    assert rid not in [r.id for r in await library.resources.search(GUILD, "housing")]
    await db.execute("DELETE FROM resources WHERE id = ?", (rid,))
    assert await library.resources.search(GUILD, "tenancy") == []


async def test_a_typo_searches_only_its_close_words_and_no_close_word_stops_early(
    library: Services, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """#15: once the typed words matched nothing, only their close words are ranked (a phrase
    that matches nothing adds nothing to a rank, so the answer is the one the typed words
    with their close words gave), and with no close word nothing more is searched. A typo
    still finds the right resource among many that hold the word only in their text."""
    await db.executemany(
        "INSERT INTO resources (guild_id, title, url, category, category_key, description, "
        "status, suggested_at) VALUES (?, ?, 'https://example.org/m', 'Reading', 'reading', "
        "?, 'approved', 0)",
        [(GUILD, f"Memory notes {i}", f"Living with dementia, part {i}") for i in range(300)],
    )
    repo = library.resources._repo
    sent: list[str] = []
    real = repo.search

    async def spy(guild_id: int, match: str, category: str | None, limit: int) -> Any:
        sent.append(match)
        return await real(guild_id, match, category, limit)

    real_word = repo.search_word

    async def spy_word(
        guild_id: int, word: str, category: str | None, limit: int, *, prefix: bool
    ) -> Any:
        sent.append(f'word ("{word}"' + (f' OR "{word}"*)' if prefix else ")"))
        return await real_word(guild_id, word, category, limit, prefix=prefix)

    monkeypatch.setattr(repo, "search", spy)
    monkeypatch.setattr(repo, "search_word", spy_word)
    found = await library.resources.search(GUILD, "dimentia")
    assert found[0].title == "Dementia carers circle"
    assert len(found) == 10 and all(r.title.startswith("Memory notes") for r in found[1:])
    # One word typed: its own fast path, which finds too few (none) and asks the full search;
    # the one close word's best (ten of 301) come from the fast path alone.
    # (SQLite knows from its weights that no resource here holds the typed word.)
    assert sent == [
        'word ("dimentia" OR "dimentia"*)',
        *(['("dimentia" OR "dimentia"*)'] if db.is_postgres else []),
        'word ("dementia")',
    ]
    # The same answer as the typed words searched beside their close word.
    typed_too = await real(GUILD, '("dimentia" OR "dimentia"* OR "dementia")', None, 10)
    assert [r.id for r in found] == [r.id for r in typed_too]

    sent.clear()
    assert await library.resources.search(GUILD, "xylophone") == []
    # No close word: no second search.
    full = ['("xylophone" OR "xylophone"*)'] if db.is_postgres else []
    assert sent == ['word ("xylophone" OR "xylophone"*)', *full]
