"""Embeds for /crisis and /faq: user-supplied text defused and cut to Discord's limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from familybot import i18n
from familybot.services.crisis import REGION_NAMES, CrisisLine
from familybot.ui.text import clip, defuse

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
CRISIS_COLOUR = 0xC0392B
FAQ_COLOUR = 0x5B8DB8

CRISIS_FOOTER = (
    "You are not alone. Nobody is told that you asked for these, and nothing is recorded."
)
FAQ_FOOTER = (
    "Written by this server's facilitators. FamilyBot doesn't give medical advice; "
    "if you need help right now, use /crisis."
)


def _line_text(line: CrisisLine) -> str:
    head = f"**{defuse(line.name)}**: {defuse(line.contact)}"
    if line.hours:
        head += f" ({defuse(line.hours)})"
    return head + (f"\n{defuse(line.notes)}" if line.notes else "")


def crisis_embed(lines: Sequence[CrisisLine], region: str | None) -> discord.Embed:
    where = REGION_NAMES.get((region or "US").upper(), "your region")
    description = "\n\n".join(_line_text(line) for line in lines)
    return discord.Embed(
        title=f"Crisis lines: {where}",
        description=clip(description, DESCRIPTION_MAX),
        colour=CRISIS_COLOUR,
    ).set_footer(text=CRISIS_FOOTER)


def crisis_reply(client: Any, guild_id: int | None) -> discord.Embed:
    """What `/crisis` shows (and the start-here panel's Crisis lines): from memory only, so
    it answers when the database is down, and nothing records who asked."""
    known = client.services.crisis.cached(guild_id)
    region = known.region if known else None
    local = known.local_lines if known else ()
    lines = client.crisis_directory.lines_for(region, local, i18n.current_language())
    return crisis_embed(lines, region)


def faq_embed(question: str, answer: str) -> discord.Embed:
    """Facilitator-written text, made inert and kept within every embed limit."""
    title = clip(defuse(" ".join(question.split())), TITLE_MAX)
    budget = EMBED_TOTAL_MAX - len(title) - len(FAQ_FOOTER)
    description = clip(defuse(answer.strip()), min(DESCRIPTION_MAX, budget))
    return discord.Embed(title=title, description=description, colour=FAQ_COLOUR).set_footer(
        text=FAQ_FOOTER
    )
