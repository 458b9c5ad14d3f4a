"""Autocomplete for `/session` options: sessions, editable sessions and their dates.

Module-level callbacks (as cogs/autocomplete.py), used by the Sessions cog's commands; they
ask the sessions service what to suggest."""

from __future__ import annotations

from datetime import date, timedelta

import discord
from discord import app_commands

from familybot import i18n
from familybot.bot import FamilyBot
from familybot.checks import actor_of
from familybot.services.sessions.recurrence import from_utc


async def session_autocomplete(
    interaction: discord.Interaction[FamilyBot], current: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    found = await interaction.client.services.sessions.autocomplete(interaction.guild_id, current)
    return [app_commands.Choice(name=label, value=value) for label, value in found]


async def editable_sessions(
    interaction: discord.Interaction[FamilyBot], current: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    found = await interaction.client.services.sessions.editor.autocomplete_editable(
        interaction.guild_id, actor_of(interaction), current
    )
    return [app_commands.Choice(name=label, value=value) for label, value in found]


async def _dates(
    interaction: discord.Interaction[FamilyBot], current: str, *, past: bool
) -> list[app_commands.Choice[str]]:
    ref = str(getattr(interaction.namespace, "session", "") or "")
    if interaction.guild_id is None or not ref:
        return []
    keys = await interaction.client.services.sessions.occurrence_dates(
        interaction.guild_id, ref, past=past
    )
    typed = current.strip()
    return [_day_choice(date.fromisoformat(k)) for k in keys if k.startswith(typed)][:25]


def _day_choice(day: date) -> app_commands.Choice[str]:
    """`2027-03-02 (Tuesday)` / `2027-03-02 (martes)`: the date as typed, its weekday in the
    person's language."""
    return app_commands.Choice(
        name=f"{day.isoformat()} ({i18n.format_date(day, 'EEEE')})", value=day.isoformat()
    )


async def upcoming_dates(
    interaction: discord.Interaction[FamilyBot], current: str
) -> list[app_commands.Choice[str]]:
    return await _dates(interaction, current, past=False)


async def past_dates(
    interaction: discord.Interaction[FamilyBot], current: str
) -> list[app_commands.Choice[str]]:
    return await _dates(interaction, current, past=True)


async def recent_and_upcoming_dates(
    interaction: discord.Interaction[FamilyBot], current: str
) -> list[app_commands.Choice[str]]:
    upcoming = await _dates(interaction, current, past=False)
    past = await _dates(interaction, current, past=True)
    seen = {c.value for c in upcoming[:13]}
    return upcoming[:13] + [c for c in past if c.value not in seen][:12]


async def next_days(
    interaction: discord.Interaction[FamilyBot], current: str
) -> list[app_commands.Choice[str]]:
    assert interaction.guild_id is not None
    bot = interaction.client
    tz = await bot.services.setup.timezone_for(interaction.guild_id)
    today = from_utc(bot.clock.now(), tz).date()
    days = [today + timedelta(days=n) for n in range(25)]
    return [_day_choice(d) for d in days if d.isoformat().startswith(current.strip())]
