"""Each e2e variant really runs the bot on its backend (tests/e2e/conftest.py), and the
harness reads back what that bot stored, from that database."""

from __future__ import annotations

import asyncpg

from tests.e2e.harness import World, read_sync, rows


async def test_each_variant_runs_the_bot_on_its_own_backend(world: World, backend: str) -> None:
    assert world.bot is not None
    assert world.bot.db.is_postgres is (backend == "postgres")
    h = await world.run(world.admin, "setup", "timezone", tz="Europe/London")
    assert h.ephemeral and "Europe/London" in h.content
    assert [r["timezone"] for r in await rows(world, "SELECT timezone FROM guild_settings")] == [
        "Europe/London"
    ]
    assert read_sync(world, "SELECT timezone FROM guild_settings") == [("Europe/London",)]
    if backend == "postgres":
        assert world.database_url is not None and not world.db_path.exists()
        conn = await asyncpg.connect(world.database_url)  # independent of the bot's code
        try:
            stored = await conn.fetchval("SELECT timezone FROM guild_settings")
        finally:
            await conn.close()
        assert stored == "Europe/London"
    else:
        assert world.database_url is None and world.db_path.exists()
