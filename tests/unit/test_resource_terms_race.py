"""A search word dropped as gone while a new resource brings it back (found in review).

On PostgreSQL a typo search drops the close words no resource holds any more from
resource_terms (migration 0021). It asked per word, then deleted in a transaction of its own:
a resource written in between (its trigger finds the word still there and adds nothing)
lost its word for good, and typos of it never found that resource again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from familybot.db.connection import Database
from familybot.db.repositories.resources import ResourceRepository
from familybot.wiring import Services

GUILD = 1


async def _add(db: Database, title: str, description: str) -> None:
    await db.execute(
        "INSERT INTO resources (guild_id, title, url, category, category_key, description, "
        "status, suggested_at) VALUES (?, ?, 'https://example.org/x', 'Guides', 'guides', ?, "
        "'approved', 0)",
        (GUILD, title, description),
    )


async def test_a_word_written_again_while_it_is_dropped_stays_searchable(
    db: Database, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not db.is_postgres:
        pytest.skip("PostgreSQL's resource_terms (SQLite indexes queued resources later)")
    await _add(db, "Dementia carers circle", "Monthly meetings")
    await db.execute("DELETE FROM resources")  # its words stay in resource_terms, now gone
    repo = ResourceRepository(db)
    transaction = db.transaction
    written = []

    @asynccontextmanager
    async def after_a_wait() -> AsyncIterator[Database]:
        if not written:
            # While the drop waits for the write lock, another interaction saves a resource
            # with the word (and commits first).
            written.append(True)
            await _add(db, "Dementia cafe", "A friendly afternoon")
        async with transaction() as tx:
            yield tx

    monkeypatch.setattr(db, "transaction", after_a_wait)
    await repo.drop_gone_terms(["dementia"])
    monkeypatch.undo()
    assert written

    found = await services.resources.search(GUILD, "dimentia")
    assert [r.title for r in found] == ["Dementia cafe"]
