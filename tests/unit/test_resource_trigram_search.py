"""Typo search through the trigram index gives the old full-scan answer (issue 15).

The old fallback compared a typed word with every word of the search index; now the trigram
index (migration 0018) supplies candidates and the same comparison picks among them. On a
generated library, part written before migration 0018 (the upgrade path) and part through the
repository afterwards (the triggers and the tokenizer), every typo gets the same close words
and the same results as the full scan.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from familybot.db import migrate as migrate_module
from familybot.db.connection import Database
from familybot.db.migrate import available_migrations, migrate
from familybot.db.repositories.resources import NewResource, ResourceRepository
from familybot.models import Resource, ResourceStatus
from familybot.services.resources.fuzzy import FUZZY_MAX_TERMS, TERM_RE, close_terms
from familybot.services.resources.service import ResourcesService
from familybot.wiring import build_services
from tests.support.fakes import FakeClock, RecordingPort

GUILD = 1
STEMS = [
    *("grief", "support", "parent", "caring", "anxiety", "sleep", "respite", "carer"),
    *("teenager", "autism", "dementia", "school", "money", "housing", "benefit", "sibling"),
    *("counselling", "helpline", "bereavement", "coping", "diagnosis", "hospital", "hospice"),
    *("wellbeing", "loneliness", "adoption", "fostering", "disability", "epilepsy", "café"),
]
# Of the 316 typed words, at least this many are near a word of the library (308 are).
FOUND_AT_LEAST = 250
SUFFIXES = ("", "", "s", "ing", "ed", "ment", "ness", "er")


def _word(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(STEMS) + rng.choice(SUFFIXES)
    # Made-up words: consonant-vowel syllables, 1 to 4 of them.
    return "".join(
        rng.choice("bcdfghklmnprstvwz") + rng.choice("aeiou") for _ in range(rng.randint(1, 4))
    )


def _resource(rng: random.Random, i: int) -> NewResource:
    return NewResource(
        title=" ".join(_word(rng) for _ in range(rng.randint(1, 4))).title(),
        url=f"https://example.org/{i}",
        category=_word(rng).title(),
        description=" ".join(_word(rng) for _ in range(rng.randint(3, 12))),
        audience=_word(rng) if i % 3 == 0 else "",
        region=f"area{i % 50}" if i % 4 == 0 else "",
    )


def _typo(rng: random.Random, word: str) -> str:
    w = list(word)
    for _ in range(rng.choice((1, 1, 1, 2))):
        kind = rng.randrange(5)
        at = rng.randrange(len(w)) if w else 0
        letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
        if kind == 0 and w:
            w[at] = letter
        elif kind == 1 and len(w) > 2:
            del w[at]
        elif kind == 2:
            w.insert(at, letter)
        elif kind == 3 and at + 1 < len(w):
            w[at], w[at + 1] = w[at + 1], w[at]
        else:
            w.extend(rng.choice(SUFFIXES) or "s")  # a longer form: matched by its prefix
    return "".join(w)


async def _old_search(
    service: ResourcesService, repo: ResourceRepository, query: str, scanned: dict[str, list[str]]
) -> list[int]:
    """Before migration 0018: the typed words compared with every word of the index (a
    word's full scan is done once: `scanned` keeps it, the library being unchanged)."""
    terms = [t.casefold() for t in TERM_RE.findall(query)][:8]
    groups = [[f'"{t}"', f'"{t}"*'] for t in terms]
    results = await service._run(GUILD, groups, "AND", None)
    if not results and len(terms) > 1:
        results = await service._run(GUILD, groups, "OR", None)
    if not results and len(terms) <= FUZZY_MAX_TERMS:
        vocabulary = await repo.vocabulary()
        for t in terms:
            if t not in scanned:
                scanned[t] = close_terms(t, vocabulary)
        close = [scanned[t] for t in terms]
        fuzzy = [g + [f'"{v}"' for v in near] for g, near in zip(groups, close, strict=True)]
        results = await service._run(GUILD, fuzzy, "OR", None)
    return [r.id for r in results]


def _ids(found: list[Resource]) -> list[int]:
    return [r.id for r in found]


async def test_typo_results_equal_the_full_scan_on_a_generated_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(15)
    path = tmp_path / "familybot.db"
    # A library written before the trigram index existed (schema 0017), in plain SQL.
    before = [m for m in available_migrations() if m.number < 18]
    assert [m.name for m in available_migrations()][17] == "search", "0018 is the trigram index"
    monkeypatch.setattr(migrate_module, "available_migrations", lambda: before)
    db = await Database.open(path)
    await migrate(db)
    await db.close()
    con = sqlite3.connect(path)
    with con:
        for i in range(1500):
            item = _resource(rng, i)
            con.execute(
                "INSERT INTO resources (guild_id, title, url, category, category_key, "
                "description, region, audience, status, suggested_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'approved', 0)",
                (
                    GUILD,
                    item.title,
                    item.url,
                    item.category,
                    item.category.casefold(),
                    item.description,
                    item.region,
                    item.audience,
                ),
            )
    con.close()
    monkeypatch.undo()

    db = await Database.open(path)
    try:
        await migrate(db)
        services = build_services(db, RecordingPort(), FakeClock(), "America/New_York")
        service = services.resources
        repo = service._repo
        # 0018 indexed the library's words itself, and 0026 weighed its resources for
        # one-word searches (resource_term_weights) as index_new_terms would have.
        assert await db.fetchval("SELECT count(*) FROM resource_terms_todo") == 0
        migrated = await db.fetchall("SELECT * FROM resource_term_weights ORDER BY 1, 2, 3, 4, 5")
        assert len(migrated) > 1500
        await db.execute("INSERT INTO resource_terms_todo SELECT id FROM resources")
        await db.execute("DELETE FROM resource_term_weights")
        await repo.index_new_terms()
        again = await db.fetchall("SELECT * FROM resource_term_weights ORDER BY 1, 2, 3, 4, 5")
        assert [tuple(r) for r in again] == [tuple(r) for r in migrated]
        # ... and a library that grows through the repository afterwards (and one edit).
        for i in range(1500, 2000):
            await repo.create(
                GUILD,
                _resource(rng, i),
                status=ResourceStatus.APPROVED,
                suggested_by=2,
                now=FakeClock().now(),
            )
        await db.execute("UPDATE resources SET title = 'Quixotically zymurgical' WHERE id = 7")

        vocabulary = await repo.vocabulary()
        assert "quixot" in vocabulary or "quixotically" in vocabulary
        words = [w for w in vocabulary if w.isalpha()]
        typed = [_typo(rng, rng.choice(words)) for _ in range(250)]
        typed += ["quixoticaly", "zymurgicl", "xylophone", "zz", "bereevement", "dimentia"]
        typed += [_word(rng) for _ in range(60)]

        # The old full scan of every word of the index, once per word (it is what is slow).
        scanned: dict[str, list[str]] = {}
        for word in typed:
            scanned[word] = old = close_terms(word, vocabulary)
            assert await service._close_terms(word) == old, word
        found_any = sum(bool(scanned[word]) for word in typed)
        assert found_any > FOUND_AT_LEAST, found_any  # the comparison is not empty

        for query in [*typed[:150], "grief suport", "anxeity sleep", "carer dimentia hospce"]:
            assert _ids(await service.search(GUILD, query)) == await _old_search(
                service, repo, query, scanned
            ), query
        assert _ids(await service.search(GUILD, "quixoticaly")) == [7]
    finally:
        await db.close()
