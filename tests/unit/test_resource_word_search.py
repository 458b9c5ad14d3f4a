"""A one-word /resource search (a word typed alone, or a typo's one close word) ranks only a
bounded set of candidates (issue 15: migration 0026, ResourceRepository.search_word). It must
show what the full search shows, in the same order, on both backends: held here against the
full statement on a generated library where the best are decided by how often a word is in
which field and by each resource's length, and after every kind of change to the library.
"""

from __future__ import annotations

import random
import re
from importlib import resources

import pytest

from familybot.db.connection import Database
from familybot.db.repositories.resource_terms import after_prefix, fts_tokens
from familybot.wiring import Services

MIGRATION = "0026_resource_term_weights.sql"
GUILD = 1
OTHER = 2
LIMIT = 10
WORDS = ["dementia", "grief", "carer", "care", "sleep", "school", "money", "respite", "autism"]
FILLER = ["help", "with", "and", "for", "local", "weekly", "notes", "guide", "family", "talk"]


def _text(rng: random.Random, words: int, pick: list[str]) -> str:
    return " ".join(rng.choice(pick if rng.random() < 0.35 else FILLER) for _ in range(words))


async def _fill(db: Database, rng: random.Random, n: int, guild: int, status: str) -> None:
    rows = []
    for i in range(n):
        category = rng.choice(["Dementia", "Grief", "Caring", "Money", "Reading"])
        rows.append(
            (
                guild,
                _text(rng, rng.randint(1, 5), WORDS),
                f"https://example.org/{guild}/{status}/{i}",
                category,
                category.casefold(),
                _text(rng, rng.randint(0, 25), WORDS),
                rng.choice(["", "carers", "parents"]),
                status,
            )
        )
    await db.executemany(
        "INSERT INTO resources (guild_id, title, url, category, category_key, description, "
        "audience, status, suggested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
        rows,
    )


@pytest.fixture
async def generated(services: Services, db: Database) -> Services:
    rng = random.Random(15)
    await _fill(db, rng, 400, GUILD, "approved")
    # Other servers' resources and unapproved ones hold the same words: never shown.
    await _fill(db, rng, 150, OTHER, "approved")
    await _fill(db, rng, 60, GUILD, "pending")
    await _fill(db, rng, 60, GUILD, "retired")
    return services


async def _same_as_full(services: Services, word: str, *, prefix: bool) -> list[int]:
    repo = services.resources._repo
    match = f'("{word}" OR "{word}"*)' if prefix else f'("{word}")'
    fast = [r.id for r in await repo.search_word(GUILD, word, None, LIMIT, prefix=prefix)]
    full = [r.id for r in await repo.search(GUILD, match, None, LIMIT)]
    assert fast == full, (word, prefix)
    return fast


async def test_the_best_of_one_word_are_the_full_searchs_in_its_order(
    generated: Services, db: Database
) -> None:
    for word in [*WORDS, "carers", "parents", "weekly", "reading", "caring", "xylophone"]:
        for prefix in (False, True):
            shown = await _same_as_full(generated, word, prefix=prefix)
            if word != "xylophone":
                assert len(shown) == LIMIT, word  # many matches: a full page
    shown = await _same_as_full(generated, "dementia", prefix=False)
    guilds = await db.fetchall(
        f"SELECT DISTINCT guild_id, status FROM resources WHERE id IN ({','.join('?' * 10)})",
        shown,
    )
    assert [(r[0], r[1]) for r in guilds] == [(GUILD, "approved")]


async def test_a_change_to_the_library_counts_at_once(generated: Services, db: Database) -> None:
    """Added, edited, approved, retired, deleted: the next search reflects it."""
    await _same_as_full(generated, "dementia", prefix=False)  # the candidates are built
    await db.execute(
        "INSERT INTO resources (guild_id, title, url, category, category_key, description, "
        "status, suggested_at) VALUES (?, 'Dementia dementia', 'https://example.org/new', "
        "'Dementia', 'dementia', 'dementia', 'approved', 0)",
        (GUILD,),
    )
    new = int(await db.fetchval("SELECT id FROM resources WHERE url = 'https://example.org/new'"))
    assert (await _same_as_full(generated, "dementia", prefix=False))[0] == new
    await db.execute("UPDATE resources SET status = 'retired' WHERE id = ?", (new,))
    assert new not in await _same_as_full(generated, "dementia", prefix=False)
    await db.execute("UPDATE resources SET status = 'approved' WHERE id = ?", (new,))
    assert (await _same_as_full(generated, "dementia", prefix=True))[0] == new
    await db.execute(
        "UPDATE resources SET title = 'Memory clinic', description = 'x', category = 'Health', "
        "category_key = 'health' WHERE id = ?",
        (new,),
    )
    assert new not in await _same_as_full(generated, "dementia", prefix=False)
    await db.execute("UPDATE resources SET title = 'Dementia dementia' WHERE id = ?", (new,))
    assert (await _same_as_full(generated, "dementia", prefix=False))[0] == new
    await db.execute("UPDATE resources SET guild_id = ? WHERE id = ?", (OTHER, new))
    assert new not in await _same_as_full(generated, "dementia", prefix=False)
    await db.execute("UPDATE resources SET guild_id = ? WHERE id = ?", (GUILD, new))
    await db.execute("DELETE FROM resources WHERE id = ?", (new,))
    assert new not in await _same_as_full(generated, "dementia", prefix=False)


async def test_a_word_held_only_elsewhere_finds_nothing_until_it_is_here(
    generated: Services, db: Database
) -> None:
    """A word only another server's or an unapproved resource holds finds nothing (SQLite
    answers that from the weights alone); approved here, it is found at once."""
    insert = (
        "INSERT INTO resources (guild_id, title, url, category, category_key, description, "
        "status, suggested_at) VALUES (?, ?, ?, 'Reading', 'reading', '', ?, 0)"
    )
    await db.execute(insert, (OTHER, "Okapi notes", "https://example.org/o1", "approved"))
    await db.execute(insert, (GUILD, "Okapi guide", "https://example.org/o2", "pending"))
    for prefix in (False, True):
        assert await _same_as_full(generated, "okapi", prefix=prefix) == []
    await db.execute("UPDATE resources SET status = 'approved' WHERE title = 'Okapi guide'")
    mine = int(await db.fetchval("SELECT id FROM resources WHERE title = 'Okapi guide'"))
    assert [r.id for r in await generated.resources.search(GUILD, "okapi")] == [mine]
    assert [r.id for r in await generated.resources.search(GUILD, "okpai")] == [mine]


async def test_the_service_shows_the_full_searchs_answer(generated: Services) -> None:
    """Through the service: a typed word, its typo (one close word), a word other words start
    with, a category, and no match: each as the full search ranks it."""
    service, repo = generated.resources, generated.resources._repo

    async def full(match: str, category: str | None = None) -> list[int]:
        return [r.id for r in await repo.search(GUILD, match, category, LIMIT)]

    async def ids(query: str, category: str | None = None) -> list[int]:
        return [r.id for r in await service.search(GUILD, query, category)]

    assert await ids("dementia") == await full('("dementia" OR "dementia"*)')
    # A word that is not its own stem (`schools`, `school`; as `bereavment` is `bereav`).
    assert await ids("schools") == await full('("schools" OR "schools"*)') != []
    assert await ids("dimentia") == await full('("dementia")')
    assert await ids("respte") == await full('("respit")')
    assert await ids("care") == await full('("care" OR "care"*)')  # carer starts so
    assert await ids("grief", "Grief") == await full('("grief" OR "grief"*)', "Grief")
    assert await ids("xylophone") == []


async def test_a_word_that_starts_others_or_is_not_one_token_is_searched_in_full(
    generated: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = generated.resources._repo
    full: list[str] = []
    real = repo.search

    async def spy(guild_id: int, match: str, category: str | None, limit: int) -> object:
        full.append(match)
        return await real(guild_id, match, category, limit)

    monkeypatch.setattr(repo, "search", spy)
    await repo.search_word(GUILD, "care", None, LIMIT, prefix=True)  # carer, caring
    await repo.search_word(GUILD, "care", None, LIMIT, prefix=False)
    await repo.search_word(GUILD, "dementia", None, LIMIT, prefix=True)
    await repo.search_word(GUILD, "dementia", "Dementia", LIMIT, prefix=False)
    assert full == ['("care" OR "care"*)', '("dementia")']


def test_tokens_and_prefix_bounds() -> None:
    assert fts_tokens("Bereavement") == ["bereav"]
    assert fts_tokens("dog_dog") == ["dog", "dog"]
    assert fts_tokens("") == []
    assert after_prefix("care") == "carf"
    words = sorted(["car", "care", "carer", "caring", "carf", "cards"])
    assert [w for w in words if "care" < w < after_prefix("care")] == ["carer"]


@pytest.mark.postgres_only
async def test_postgres_migration_ranks_a_library_as_the_trigger_does(
    generated: Services, db: Database
) -> None:
    """Migration 0026 ranks the resources already there with its own statement: the same rows
    as the trigger writes for each resource saved afterwards."""
    text = (resources.files("familybot.db") / "migrations" / "postgres" / MIGRATION).read_text()
    backfill = re.search(r"^INSERT INTO resource_term_ranks .*?;", text, re.M | re.S)
    assert backfill is not None
    ranks = "SELECT resource_id, term, guild_id, rank FROM resource_term_ranks ORDER BY 1, 2"
    by_trigger = [tuple(r) for r in await db.fetchall(ranks)]
    assert len(by_trigger) > 400
    async with db.transaction():
        await db.execute("DELETE FROM resource_term_ranks")
        await db.execute(backfill.group(0).rstrip(";"))
    assert [tuple(r) for r in await db.fetchall(ranks)] == by_trigger
