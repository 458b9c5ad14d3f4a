"""PostgreSQL's index of the search words (migration 0021_pg_trgm, issue 16): an install
upgraded with resources already in it gets their words, and a server without pg_trgm still
finds typos (without the indexes)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from familybot.db import migrate as migrate_module
from familybot.db.migrate import available_migrations, migrate
from familybot.db.postgres import PostgresDatabase
from familybot.wiring import build_services
from tests.support import backends
from tests.support.fakes import FakeClock, RecordingPort

GUILD = 1


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    await backends.SERVER.ensure_template()  # skips when no server answers
    name = f"{backends.PREFIX}{uuid.uuid4().hex[:16]}"
    await backends._admin(f'CREATE DATABASE "{name}"')
    try:
        yield backends.url_for(name)
    finally:
        await backends.SERVER.drop(name)


async def _add(db: PostgresDatabase, title: str, description: str) -> None:
    await db.execute(
        "INSERT INTO resources (guild_id, title, url, category, category_key, description, "
        "status, suggested_at) VALUES (?, ?, 'https://example.org/x', 'Guides', 'guides', ?, "
        "'approved', 0)",
        (GUILD, title, description),
    )


async def test_an_upgraded_install_gets_the_words_already_in_its_library(
    empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Numbered by whoever merges it (0020 when written): found by name.
    (ours,) = [m for m in available_migrations("postgresql") if m.name == "pg_trgm"]
    before = [m for m in available_migrations("postgresql") if m.number < ours.number]
    monkeypatch.setattr(migrate_module, "available_migrations", lambda dialect="sqlite": before)
    db = await PostgresDatabase.open_url(empty_database)
    try:
        await migrate(db)
        await _add(db, "Dementia carers circle", "Monthly meetings")
        monkeypatch.undo()
        await migrate(db)
        words = {r["term"] for r in await db.fetchall("SELECT term FROM resource_terms")}
        assert {"dementia", "carer", "circl", "month", "meet"} <= words
        services = build_services(db, RecordingPort(), FakeClock(), "America/New_York")
        found = await services.resources.search(GUILD, "dimentia")
        assert [r.title for r in found] == ["Dementia carers circle"]
        # ... and words written afterwards come through the trigger.
        await _add(db, "Respite finder", "Short breaks")
        assert [r.title for r in await services.resources.search(GUILD, "respit")] == [
            "Respite finder"
        ]
        assert [r.title for r in await services.resources.search(GUILD, "brakes")] == [
            "Respite finder"
        ]
    finally:
        await db.close()


async def test_without_pg_trgm_typos_are_still_found(
    empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def cannot(self: PostgresDatabase) -> list[str]:
        return ["pg_trgm"]  # as when the database user may not create extensions

    monkeypatch.setattr(PostgresDatabase, "ensure_extensions", cannot)
    db = await PostgresDatabase.open_url(empty_database)
    try:
        await migrate(db)
        assert await db.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'") == 0
        indexes = {r[0] for r in await db.fetchall("SELECT indexname FROM pg_indexes")}
        assert "resource_terms_trgm" not in indexes
        await _add(db, "Dementia carers circle", "Monthly meetings")
        services = build_services(db, RecordingPort(), FakeClock(), "America/New_York")
        found = await services.resources.search(GUILD, "dimentia")
        assert [r.title for r in found] == ["Dementia carers circle"]
    finally:
        await db.close()
