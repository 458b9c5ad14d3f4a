"""The crisis lines for a server, for every place that shows them (`/crisis`, the
start-here panel, a report about someone at risk): from memory only, no database."""

from __future__ import annotations

from typing import Any

import discord

from familybot import i18n
from familybot.ui.crisis_texts import LINE_CONTEXT as LINE_CONTEXT
from familybot.ui.crisis_texts import LINE_TEXTS as LINE_TEXTS
from familybot.ui.crisis_texts import translated
from familybot.ui.help_embeds import crisis_embed


def crisis_reply(bot: Any, guild_id: int | None) -> discord.Embed:
    """What `/crisis` shows (and the start-here panel's Crisis lines, and a report about
    someone at risk): from memory only, so it answers when the database is down, and
    nothing records who asked."""
    known = bot.services.crisis.cached(guild_id)
    region = known.region if known else None
    local = known.local_lines if known else ()
    lines = bot.crisis_directory.lines_for(region, local, i18n.current_language())
    return crisis_embed([translated(line) for line in lines], region)
