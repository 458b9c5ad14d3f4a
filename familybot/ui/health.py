"""Reads what `/setup show` checks from discord.py's cache: permissions, roles, channels
and the gateway's intents. The rules themselves are in familybot/services/setup/diagnostics.py."""

from __future__ import annotations

from typing import Any

import discord

from familybot.i18n import pgettext
from familybot.models.diagnostics import ChannelFacts, GuildFacts, Problem
from familybot.permissions import PERMISSION_BITS

FIELD_LIMIT = 1024


def _names(permissions: discord.Permissions) -> frozenset[str]:
    # By the names permissions.py uses: discord.py's own iteration says read_messages
    # where Discord (and we) say view_channel.
    return frozenset(name for name in PERMISSION_BITS if getattr(permissions, name, False))


def guild_facts(guild: discord.Guild, client: Any, message_content_wanted: bool) -> GuildFacts:
    me = guild.me
    everyone = guild.default_role
    channels = {
        channel.id: ChannelFacts(
            bot_permissions=_names(channel.permissions_for(me)),
            everyone_can_view=channel.permissions_for(everyone).view_channel,
        )
        for channel in guild.channels
        if not isinstance(channel, discord.CategoryChannel)
    }
    flags: discord.ApplicationFlags = client.application_flags
    return GuildFacts(
        bot_permissions=_names(me.guild_permissions),
        roles=frozenset(role.id for role in guild.roles),
        # discord.py's order (position, then id) is the one Discord enforces.
        roles_below_bot=frozenset(role.id for role in guild.roles if role < me.top_role),
        channels=channels,
        message_content_wanted=message_content_wanted,
        message_content_requested=bool(client.intents.message_content),
        message_content_enabled=bool(
            flags.gateway_message_content or flags.gateway_message_content_limited
        ),
    )


def health_fields(problems: list[Problem]) -> list[tuple[str, str]]:
    """(name, value) embed fields listing the problems, split to Discord's 1024-char limit."""
    if not problems:
        return [
            (
                pgettext("embed-field-name", "Health"),
                pgettext("embed-field", "Everything looks good. 💙"),
            )
        ]
    fields: list[tuple[str, str]] = []
    current: list[str] = []
    size = 0
    for problem in problems:
        line = f"• {problem.line()}"[: FIELD_LIMIT - 1]
        if current and size + len(line) + 1 > FIELD_LIMIT:
            fields.append(("\u200b", "\n".join(current)))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    fields.append(("\u200b", "\n".join(current)))
    # Discord allows 25 fields; the first is named so the section reads as one.
    title = pgettext("embed-field-name", "Needs attention ({count})").format(count=len(problems))
    fields[0] = (title, fields[0][1])
    return fields[:20]
