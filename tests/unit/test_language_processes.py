"""Language choices across processes (#12 with #16): a /my language or /setup language made
in one process is seen by another within the refresh bound, without a restart.

Two LanguageService instances, each with its own Database connection and its own in-memory
preferences, stand for two processes sharing one database (SQLite file or PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from familybot import i18n
from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.db.repositories.language import LanguageRepository
from familybot.services.setup.language import REFRESH, REFRESH_JOB_SECONDS, LanguageService
from tests.support import backends
from tests.support.fakes import FakeClock

pytestmark = pytest.mark.asyncio

GUILD = 1_300_000_000_000_000_001
ALICE = 601


@pytest.fixture
async def two_connections(tmp_path: Path, backend: str) -> AsyncIterator[tuple[Database, Database]]:
    if backend == "postgres":
        name = await backends.SERVER.clean_database()
        first = await Database.connect(backends.url_for(name))
        second = await Database.connect(backends.url_for(name))
    else:
        first = await Database.open(tmp_path / "shared.db")
        await migrate(first)
        second = await Database.open(tmp_path / "shared.db")
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()


async def test_another_process_sees_a_change_within_the_bound(
    two_connections: tuple[Database, Database],
) -> None:
    clock = FakeClock()
    here = LanguageService(
        LanguageRepository(two_connections[0]), clock, i18n.LanguagePreferences()
    )
    there = LanguageService(
        LanguageRepository(two_connections[1]), clock, i18n.LanguagePreferences()
    )
    await here.load()
    await there.load()
    assert there.preferences.for_dm(ALICE, GUILD) == "en"

    await here.set_user_language(ALICE, "es")
    await here.set_guild_language(GUILD, "es")
    assert here.preferences.for_dm(ALICE, GUILD) == "es"  # this process: at once

    # The other process: not before its copy is REFRESH old...
    clock.advance(seconds=REFRESH.total_seconds() - 1)
    assert await there.refresh() is False
    assert there.preferences.users.get(ALICE) is None
    assert there.preferences.for_guild(GUILD) == "en"
    # ...and by then, read again: the choice shows, within 30 s of it being made.
    clock.advance(seconds=1)
    assert await there.refresh() is True
    assert there.preferences.users.get(ALICE) == "es"
    assert there.preferences.for_guild(GUILD) == "es"
    assert REFRESH.total_seconds() + REFRESH_JOB_SECONDS <= 30

    # Back to "auto" (the row goes) is seen the same way.
    await here.set_user_language(ALICE, "auto")
    clock.advance(seconds=REFRESH.total_seconds())
    assert await there.refresh() is True
    assert ALICE not in there.preferences.users
    assert there.preferences.for_dm(ALICE, GUILD) == "es"  # the server's, now


async def test_a_refresh_does_not_undo_a_change_made_meanwhile(
    two_connections: tuple[Database, Database],
) -> None:
    """A load that read the database before this process's own write must not replace it."""
    clock = FakeClock()
    service = LanguageService(
        LanguageRepository(two_connections[0]), clock, i18n.LanguagePreferences()
    )
    await service.load()
    repo = service._repo
    real_all_users = repo.all_users

    async def all_users_then_a_write() -> dict[int, str]:
        before = await real_all_users()
        await service.set_user_language(ALICE, "es")  # lands while the load is in flight
        return before

    repo.all_users = all_users_then_a_write  # type: ignore[method-assign]
    clock.advance(seconds=REFRESH.total_seconds())
    await service.refresh()
    assert service.preferences.users.get(ALICE) == "es"
