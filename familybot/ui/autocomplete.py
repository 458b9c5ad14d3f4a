"""Autocomplete callbacks shared by several commands (module-level, so any cog can use them)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from familybot.services.timezones import suggest_timezones


def timezone_choices(current: str) -> list[app_commands.Choice[str]]:
    """Canonical zones first, found by everyday names too, each with its UTC offset now."""
    return [
        app_commands.Choice(name=s.label, value=s.zone)
        for s in suggest_timezones(current[:100], discord.utils.utcnow())
    ]


async def timezones(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    return timezone_choices(current)


async def group_names(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    names = await interaction.client.services.groups.autocomplete_names(
        interaction.guild_id, current
    )
    return [app_commands.Choice(name=n[:100], value=n[:100]) for n in names]
