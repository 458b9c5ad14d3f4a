"""Embeds for /crisis and /faq: user-supplied text defused and cut to Discord's limits."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from familybot.i18n import lazy_pgettext, pgettext
from familybot.models.crisis import REGION_NAMES, CrisisLine
from familybot.ui.text import clip, defuse

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
CRISIS_COLOUR = 0xC0392B
FAQ_COLOUR = 0x5B8DB8

CRISIS_FOOTER = lazy_pgettext(
    "embed-footer",
    "You are not alone. Nobody is told that you asked for these, and nothing is recorded.",
)
FAQ_FOOTER = lazy_pgettext(
    "embed-footer",
    "Written by this server's facilitators. FamilyBot doesn't give medical advice; "
    "if you need help right now, use /crisis.",
)


# The regions' names in a title, in the reader's language (models.crisis.REGION_NAMES is
# the English reference list).
_REGIONS = {
    "US": lazy_pgettext("embed-title:region", "United States"),
    "UK": lazy_pgettext("embed-title:region", "United Kingdom"),
    "IE": lazy_pgettext("embed-title:region", "Ireland"),
    "CA": lazy_pgettext("embed-title:region", "Canada"),
    "OTHER": lazy_pgettext("embed-title:region", "other countries"),
}


def _line_text(line: CrisisLine) -> str:
    head = f"**{defuse(line.name)}**: {defuse(line.contact)}"
    if line.hours:
        head += f" ({defuse(line.hours)})"
    return head + (f"\n{defuse(line.notes)}" if line.notes else "")


def crisis_embed(lines: Sequence[CrisisLine], region: str | None) -> discord.Embed:
    code = (region or "US").upper()
    where = str(_REGIONS[code]) if code in _REGIONS else None
    known = REGION_NAMES.get(code)
    where = where or (str(known) if known else None) or pgettext("embed-title", "your region")
    description = "\n\n".join(_line_text(line) for line in lines)
    return discord.Embed(
        title=pgettext("embed-title", "Crisis lines: {region}").format(region=where),
        description=clip(description, DESCRIPTION_MAX),
        colour=CRISIS_COLOUR,
    ).set_footer(text=str(CRISIS_FOOTER))


def faq_embed(question: str, answer: str) -> discord.Embed:
    """Facilitator-written text, made inert and kept within every embed limit."""
    title = clip(defuse(" ".join(question.split())), TITLE_MAX)
    footer = str(FAQ_FOOTER)
    budget = EMBED_TOTAL_MAX - len(title) - len(footer)
    description = clip(defuse(answer.strip()), min(DESCRIPTION_MAX, budget))
    return discord.Embed(title=title, description=description, colour=FAQ_COLOUR).set_footer(
        text=footer
    )
