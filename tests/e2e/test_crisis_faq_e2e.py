"""The real FamilyBot against the fake Discord: /crisis (even without a database) and /faq."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.harness import World, rows, table_names, text_of

pytestmark = pytest.mark.asyncio


async def database_mentions(world: World, value: int) -> list[str]:
    """Every table and column holding `value` anywhere in the database file."""
    found = []
    for table in await table_names(world):
        for row in await rows(world, f'SELECT * FROM "{table}"'):
            found += [f"{table}.{k}" for k, v in row.items() if str(value) in str(v)]
    return found


def logged_mentions(caplog: pytest.LogCaptureFixture, value: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if str(value) in r.getMessage()]


async def test_crisis_shows_us_lines_privately_and_records_nothing(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    before = len(world.fake.requests)
    h = await world.run(world.alice, "crisis")
    assert h.response_type == 4 and h.ephemeral
    shown = text_of(h.callback)
    assert "988" in shown and "741741" in shown and "findahelpline.com" in shown
    assert "emergency number" in shown and "Samaritans" not in shown
    assert h.data["allowed_mentions"]["parse"] == []
    # One request: the answer itself. Nothing in the database or logs says Alice asked.
    assert [r.path for r in world.fake.requests[before:] if "callback" not in r.path] == []
    assert await database_mentions(world, world.alice) == []
    assert logged_mentions(caplog, world.alice) == []


async def test_crisis_region_and_local_lines(world: World) -> None:
    h = await world.run(world.admin, "setup", "crisis-region", region="UK")
    assert h.ephemeral and "United Kingdom" in h.content
    h = await world.run(world.alice, "crisis")
    shown = text_of(h.callback)
    assert "Samaritans" in shown and "116 123" in shown and "988" not in shown
    h = await world.run(
        world.admin, "setup", "crisis-line", name="County team", contact="Call 01234 567890"
    )
    assert h.ephemeral and "County team" in h.content
    h = await world.run(world.admin, "setup", "crisis-line", name="Web", contact="http://x.org")
    assert h.ephemeral and "https://" in h.content
    h = await world.run(world.alice, "crisis")
    assert "County team" in text_of(h.callback)
    h = await world.run(world.alice, "setup", "crisis-region", region="US")
    assert h.ephemeral and "Only server admins" in h.content
    h = await world.run(world.admin, "setup", "crisis-line-remove", name="county team")
    assert h.ephemeral
    h = await world.run(world.alice, "crisis")
    assert "County team" not in text_of(h.callback) and "Samaritans" in text_of(h.callback)
    # After a restart the region comes back from the database.
    await world.restart()
    h = await world.run(world.alice, "crisis")
    assert "Samaritans" in text_of(h.callback)


async def test_crisis_answers_when_the_database_is_gone(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.run(world.admin, "setup", "crisis-region", region="CA")
    bot = world.bot
    assert bot is not None
    # The database really goes away: the connection is closed and the file deleted.
    await bot.db.close()
    for suffix in ("", "-wal", "-shm"):
        world.db_path.with_name(world.db_path.name + suffix).unlink(missing_ok=True)
    caplog.set_level(logging.INFO)
    h = await world.run(world.bob, "crisis")
    assert h.response_type == 4 and h.ephemeral
    assert "9-8-8" in text_of(h.callback)  # still the server's region, from memory
    assert logged_mentions(caplog, world.bob) == []
    # A command that needs the database says so kindly instead.
    h = await world.run(world.bob, "faq", "ask", topic="anything")
    assert h.ephemeral and "/crisis" in h.content


async def test_crisis_works_in_direct_messages(world: World) -> None:
    fake = world.fake
    data = fake._command_data(world.guild_id, None, ("crisis",), None)
    data.pop("guild_id", None)
    handle = fake._base_interaction(2, world.guild_id, world.alice, None, data)
    dm = fake.channel(fake.dm_channel_for(world.alice))
    payload = handle.payload
    for key in ("guild_id", "guild", "member", "guild_locale"):
        payload.pop(key, None)
    payload.update(
        channel_id=dm["id"],
        channel=dm,
        user=fake.user_payload(world.alice),
        context=1,
        authorizing_integration_owners={"0": "0"},
    )
    await fake._inject(handle)
    await handle.wait_response()
    assert handle.ephemeral and "988" in text_of(handle.callback)


async def test_faq_add_ask_remove(world: World) -> None:
    await world.configure()
    h = await world.run(world.alice, "faq", "add", question="Is it free?", answer="Yes.")
    assert h.ephemeral and "Only facilitators" in h.content
    assert await rows(world, "SELECT * FROM faq") == []
    answer = "Yes, always. @everyone <@&123> [site](https://example.org)"
    h = await world.run(world.facilitator, "faq", "add", question="Is it free?", answer=answer)
    assert h.ephemeral and "Is it free?" in h.content
    h = await world.fake.autocomplete(
        world.guild_id, world.alice, "faq", "ask", focused="topic", options={"topic": "fr"}
    )
    body = await h.wait_response()
    assert body["data"]["choices"] == [{"name": "Is it free?", "value": "Is it free?"}]
    h = await world.run(world.alice, "faq", "ask", topic="is it free?")
    assert h.ephemeral and h.data["allowed_mentions"]["parse"] == []
    (embed,) = h.data["embeds"]
    assert embed["title"] == "Is it free?"
    assert "@everyone" not in embed["description"] and "Yes, always." in embed["description"]
    h = await world.run(world.alice, "faq", "remove", topic="Is it free?")
    assert h.ephemeral and "Only facilitators" in h.content
    h = await world.run(world.facilitator, "faq", "remove", topic="Is it free?")
    assert h.ephemeral and "removed" in h.content
    h = await world.run(world.alice, "faq", "ask", topic="Is it free?")
    assert h.ephemeral and "couldn't find a question" in h.content
