"""The bot's side of Discord as the services see it: the gateway intents it asks for and
one adapter per feature's port (familybot/discord/*), built once by the bot."""

from __future__ import annotations

import discord

from familybot.config import Settings
from familybot.discord.groups import DiscordGroups
from familybot.discord.moderation import DiscordModeration
from familybot.discord.notices import DiscordNotices
from familybot.discord.reminders import DiscordReminders
from familybot.discord.reports import DiscordReports
from familybot.discord.resources import DiscordResources
from familybot.discord.scheduled_events import DiscordScheduledEvents
from familybot.wiring import Adapters


def build_intents(settings: Settings) -> discord.Intents:
    # Guilds gives us roles and channels; nothing here needs members or message content.
    intents = discord.Intents.none()
    intents.guilds = True
    if settings.members_intent:  # privileged: lets privacy notice a member leaving at once
        intents.members = True
    if settings.message_content_intent:
        intents.guild_messages = True
        intents.message_content = True
    return intents


def discord_adapters(client: discord.Client, notices: DiscordNotices) -> Adapters:
    """One adapter per feature's port; they share `notices` (DM channels, reminders' pace)."""
    return Adapters(
        groups=DiscordGroups(client, notices),
        sessions=notices,
        reminders=DiscordReminders(client, notices),
        events=DiscordScheduledEvents(client),
        moderation=DiscordModeration(client, notices),
        resources=DiscordResources(client, notices),
        reports=DiscordReports(client),
    )
