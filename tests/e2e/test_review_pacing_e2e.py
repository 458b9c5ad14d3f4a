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
