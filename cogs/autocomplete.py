"""Autocomplete callbacks shared by several commands (module-level, so any cog can use them).

They ask the services what to suggest, so they live with the cogs, not in ui/ (which renders)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from familybot.checks import actor_of, member_is_facilitator
from familybot.services.setup.timezones import suggest_timezones


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


def _choices(names: list[str]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=n[:100], value=n[:100]) for n in names]


async def group_names(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The server's active groups: what `/group list` shows anyone. (Facilitator commands
    using this suggest nothing to others: see FamilyTree.interaction_check.)"""
    if interaction.guild_id is None:
        return []
    names = await interaction.client.services.groups.autocomplete_names(
        interaction.guild_id, current
    )
    return _choices(names)


async def my_group_names(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """For /group leave: only the groups this person is in or waiting for."""
    if interaction.guild_id is None:
        return []
    names = await interaction.client.services.groups.autocomplete_names(
        interaction.guild_id, current, member_id=interaction.user.id
    )
    return _choices(names)


async def facilitated_group_names(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """For the group's own facilitators' views (/group stats): the groups this person is
    listed to facilitate, every group for an admin."""
    if interaction.guild_id is None:
        return []
    groups = interaction.client.services.groups
    if actor_of(interaction).is_admin:
        names = await groups.autocomplete_names(interaction.guild_id, current)
    else:
        names = await groups.facilitated_names(interaction.guild_id, interaction.user.id, current)
    return _choices(names)


async def seated_group_names(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """For /session list: the groups whose sessions this person may see (all of them for a
    facilitator, else the ones they are seated in)."""
    if interaction.guild_id is None:
        return []
    member = None if await member_is_facilitator(interaction) else interaction.user.id
    names = await interaction.client.services.groups.autocomplete_names(
        interaction.guild_id, current, member_id=member, seated=True
    )
    return _choices(names)
