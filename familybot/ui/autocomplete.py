"""Autocomplete callbacks shared by several commands (module-level, so any cog can use them)."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

import discord
from discord import app_commands

_ALL_ZONES = sorted(available_timezones())


def timezone_choices(current: str) -> list[app_commands.Choice[str]]:
    typed = current.strip().casefold().replace(" ", "_")
    starts = [z for z in _ALL_ZONES if z.casefold().startswith(typed)]
    contains = [z for z in _ALL_ZONES if typed in z.casefold() and z not in starts]
    return [app_commands.Choice(name=z, value=z) for z in (starts + contains)[:25]]


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
