"""Reminders are rendered in their reader's language: a group's channel in the server's
(/setup language), a DM in the person's own choice (/my language), else the server's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from familybot import i18n
from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget
from familybot.wiring import build_services
from tests.support.circle import weekly_circle
from tests.support.fakes import FakeClock
from tests.unit.test_sessions_service import ReminderPort

GUILD = 1_200_000_000_000_000_001
ALICE, BOB = 501, 502


@dataclass
class LanguageSeeingPort(ReminderPort):
    """Notes the language current while each reminder is rendered."""

    languages: list[tuple[ReminderTarget, str]] = field(default_factory=list)

    async def send_reminder(
        self, target: ReminderTarget, card: ReminderCard, nonce: str
    ) -> Delivery:
        self.languages.append((target, i18n.current_language()))
        return await super().send_reminder(target, card, nonce)


async def test_channel_in_server_language_dm_in_own_choice(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    db = await Database.open(tmp_path / "t.db")
    await migrate(db)
    port = LanguageSeeingPort()
    services = build_services(db, port, clock, "America/New_York")
    try:
        await services.language.load()
        await weekly_circle(services, clock, guild_id=GUILD, days_ahead=4)  # 1 December
        channel = (await services.groups.get_active(GUILD, "Parents Circle")).channel_id
        assert channel is not None
        for user in (ALICE, BOB):
            g = await services.groups.prepare_join(GUILD, user, "Parents Circle")
            await services.groups.consent_and_join(g.id, user, g.guidelines_version, guild_id=GUILD)
            await services.sessions.set_my_reminders(GUILD, user, True, None)
        await services.language.set_guild_language(GUILD, "es")
        await services.language.set_user_language(ALICE, "en")  # Bob follows the server
        end = datetime(2026, 12, 1, 22, 59, tzinfo=UTC)
        while clock.now() < end:
            clock.set(min(end, clock.now() + timedelta(minutes=10)))
            await services.planner.plan()
            await services.dispatcher.dispatch()
        seen = {
            ("channel" if t.channel_id == channel else t.user_id, lang)
            for t, lang in port.languages
        }
        assert seen == {("channel", "es"), (ALICE, "en"), (BOB, "es")}, seen
        assert i18n.current_language() == "en"  # nothing leaks out of the job
    finally:
        i18n.preferences.users.clear()
        i18n.preferences.guilds.clear()
        await db.close()
