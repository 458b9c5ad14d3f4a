"""Hostile review: notices sent while a reminder burst goes out share its pace, so the bot
as a whole stays under Discord's global limit (45 in any second of arrival)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from familybot.discord.notices import DiscordNotices
from familybot.discord.reminders import DiscordReminders
from familybot.models.notices import Notice
from familybot.models.reminders import ReminderTarget
from tests.e2e.harness import World, reminder_cards

pytestmark = pytest.mark.asyncio


async def test_notices_during_a_reminder_burst_stay_under_the_global_limit(world: World) -> None:
    assert world.bot is not None
    world.fake.global_rate_limit = 45
    start = datetime.now(UTC) + timedelta(days=1)
    notices = DiscordNotices(world.bot)
    io = DiscordReminders(world.bot, notices)
    cards = reminder_cards(60, start)
    target = ReminderTarget(channel_id=world.alerts_channel)
    general = world.fake.guilds[world.guild_id].general_channel_id
    results = await asyncio.gather(
        *(io.send_reminder(target, c, nonce=f"fbr{c.ledger_id}") for c in cards),
        # e.g. a cancellation's channel notices while the burst is going out
        *(notices.post_notice(general, Notice("Cancelled", f"Session {i}")) for i in range(30)),
    )
    assert world.fake.rate_limited_count == 0
    assert all(r is True or getattr(r, "ok", False) for r in results)


async def test_history_reads_during_a_reminder_burst_stay_under_the_global_limit(
    world: World,
) -> None:
    """After a crash, looking for interrupted sends reads channel history while the burst
    goes out (services/reminders/recovery.py): each read is a request Discord counts too."""
    assert world.bot is not None
    world.fake.global_rate_limit = 45
    world.fake.time_based_ids = True  # reads look from an instant, as on Discord
    start = datetime.now(UTC) + timedelta(days=1)
    io = DiscordReminders(world.bot, DiscordNotices(world.bot))
    cards = reminder_cards(110, start)
    target = ReminderTarget(channel_id=world.alerts_channel)
    since = datetime.now(UTC) - timedelta(minutes=1)
    reads = len(world.fake.requests_to("GET", r"/channels/\d+/messages"))
    results = await asyncio.gather(
        *(io.send_reminder(target, c, nonce=f"fbr{c.ledger_id}") for c in cards),
        # interrupted sends of other places' reminders, looked for meanwhile (none is there)
        *(io.find_reminders(target, {1000 + i}, since) for i in range(30)),
    )
    assert world.fake.rate_limited_count == 0
    assert len(world.fake.requests_to("GET", r"/channels/\d+/messages")) - reads >= 30
    assert all(r.ok for r in results[:110]) and results[110:] == [{}] * 30
    # A read walks the history a page (100 messages) at a time, to its end.
    posted = {m["id"]: m for m in world.fake.messages_in(world.alerts_channel)}
    found = await io.find_reminders(target, {3, 110}, since)
    assert set(found) == {3, 110} and {str(i) for i in found.values()} <= set(posted)
    assert len(posted) == 110
