"""`/help`: what this person can do here (member, facilitator, admin), one real example
each; works in DMs. Every sentence comes from the message catalog (see ui/welcome.py)."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from familybot.i18n import LazyString, lazy_pgettext, pgettext
from familybot.ui.embeds import CALM
from familybot.ui.text import clip


@dataclass(frozen=True)
class HelpEntry:
    example: str  # one real example of the command
    what: LazyString


HELP_TITLE = lazy_pgettext(
    "embed-title",
    "What you can do here",
)
HELP_INTRO = lazy_pgettext(
    "embed-description",
    "Type the command in any channel (or press / and pick it). Whatever you see from "
    "FamilyBot is private to you unless it says otherwise.",
)
HELP_DM_NOTE = lazy_pgettext(
    "embed-field",
    "These work inside the server, not in this private chat (except `/crisis` and `/help`). "
    "If you are a facilitator or an admin, your own tools appear when you use `/help` "
    "inside the server.",
)
HELP_FOOTER = lazy_pgettext(
    "embed-footer",
    "If you need help right now, use /crisis. FamilyBot never gives medical advice.",
)

MEMBER_GROUPS = lazy_pgettext(
    "embed-field-name",
    "Groups and sessions",
)
MEMBER_SUPPORT = lazy_pgettext(
    "embed-field-name",
    "Support and your data",
)
FACILITATOR_HEADING = lazy_pgettext(
    "embed-field-name",
    "For facilitators",
)
FACILITATOR_SESSIONS = lazy_pgettext(
    "embed-field-name",
    "Facilitators: sessions and library",
)
ADMIN_HEADING = lazy_pgettext(
    "embed-field-name",
    "For admins",
)

MEMBER_GROUP_ENTRIES: tuple[HelpEntry, ...] = (
    HelpEntry(
        "/group list",
        lazy_pgettext("embed-field", "see the groups, who each is for and when they meet"),
    ),
    HelpEntry(
        "/group join name:Parents Circle",
        lazy_pgettext("embed-field", "join one (you read its guidelines first)"),
    ),
    HelpEntry(
        "/group leave name:Parents Circle",
        lazy_pgettext("embed-field", "leave a group or its waitlist"),
    ),
    HelpEntry("/my schedule", lazy_pgettext("embed-field", "your sessions in the next two weeks")),
    HelpEntry(
        "/my reminders dm:on offsets:24h, 1h",
        lazy_pgettext("embed-field", "get session reminders by DM too"),
    ),
    HelpEntry("/my calendar", lazy_pgettext("embed-field", "your sessions in your calendar app")),
)
MEMBER_SUPPORT_ENTRIES: tuple[HelpEntry, ...] = (
    HelpEntry(
        "/resource search query:sleep",
        lazy_pgettext("embed-field", "search the library facilitators checked"),
    ),
    HelpEntry("/crisis", lazy_pgettext("embed-field", "crisis lines you can reach right now")),
    HelpEntry(
        "/ask message:Can we talk?",
        lazy_pgettext("embed-field", "talk privately with the facilitators"),
    ),
    HelpEntry(
        "Apps → Report to facilitators",
        lazy_pgettext("embed-field", "on a message (right-click or long-press) to report it"),
    ),
    HelpEntry(
        "/my language choice:Español",
        lazy_pgettext("embed-field", "the language FamilyBot uses with you"),
    ),
    HelpEntry(
        "/my data", lazy_pgettext("embed-field", "a copy of everything FamilyBot stores about you")
    ),
    HelpEntry(
        "/my forget",
        lazy_pgettext("embed-field", "delete what it stores about you (it asks first)"),
    ),
)
FACILITATOR_ENTRIES: tuple[HelpEntry, ...] = (
    HelpEntry(
        "/group create name:Parents Circle description:… focus:parents of teens join-mode:open",
        lazy_pgettext("embed-field", "a group with its own private channel"),
    ),
    HelpEntry(
        "/group members name:Parents Circle",
        lazy_pgettext("embed-field", "roster, waitlist and attendance"),
    ),
    HelpEntry(
        "/group edit name:Parents Circle capacity:12",
        lazy_pgettext("embed-field", "change a group's details"),
    ),
    HelpEntry(
        "/group stats name:Parents Circle weeks:12",
        lazy_pgettext("embed-field", "attendance over time, chart or CSV"),
    ),
    HelpEntry(
        "/mod warn member:@someone reason:…",
        lazy_pgettext("embed-field", "moderation, always with a case record"),
    ),
)
FACILITATOR_SESSION_ENTRIES: tuple[HelpEntry, ...] = (
    HelpEntry(
        "/session schedule group:Parents Circle title:Check-in date:2026-01-06 time:18:30 "
        "repeat:weekly",
        lazy_pgettext("embed-field", "one session or a repeating series"),
    ),
    HelpEntry(
        "/session edit session:Check-in time:19:00",
        lazy_pgettext("embed-field", "change a series from now on"),
    ),
    HelpEntry(
        "/session rsvps session:Check-in",
        lazy_pgettext("embed-field", "who is coming, who hasn't answered"),
    ),
    HelpEntry(
        "/session attendance session:Check-in date:2026-01-06",
        lazy_pgettext("embed-field", "mark who attended"),
    ),
    HelpEntry(
        "/resource review", lazy_pgettext("embed-field", "approve or reject suggested resources")
    ),
    HelpEntry(
        "/resource reviewed resource:Family guide",
        lazy_pgettext("embed-field", "mark a resource as checked again"),
    ),
)
ADMIN_ENTRIES: tuple[HelpEntry, ...] = (
    HelpEntry(
        "/setup show", lazy_pgettext("embed-field", "the settings, and anything that needs fixing")
    ),
    HelpEntry(
        "/setup facilitator-role role:@Facilitators",
        lazy_pgettext("embed-field", "who can run groups"),
    ),
    HelpEntry(
        "/setup alerts channel:#facilitator-alerts",
        lazy_pgettext("embed-field", "where join requests and alerts go"),
    ),
    HelpEntry(
        "/setup welcome channel:#start-here",
        lazy_pgettext("embed-field", "post or update the start-here panel"),
    ),
    HelpEntry(
        "/setup crisis-region region:United States",
        lazy_pgettext("embed-field", "which crisis lines /crisis shows"),
    ),
    HelpEntry("/setup audit", lazy_pgettext("embed-field", "recent facilitator and admin actions")),
    HelpEntry(
        "/setup language language:Español",
        lazy_pgettext("embed-field", "the language of reminders and notices"),
    ),
)

FIELD_MAX = 1024


def _example(example: str) -> str:
    """A message menu's example names Discord's Apps menu and the menu as the reader's
    client shows them; slash command examples are shown as typed."""
    apps, arrow, menu = example.partition(" → ")
    if apps != "Apps" or not arrow:
        return example
    return pgettext("embed-field", "Apps → {menu}").format(menu=pgettext("menu-name", menu))


def _field(entries: tuple[HelpEntry, ...]) -> str:
    return clip("\n".join(f"`{_example(e.example)}`\n{e.what}" for e in entries), FIELD_MAX)


def help_embed(*, in_server: bool, facilitator: bool, admin: bool) -> discord.Embed:
    """What this person can do: the member list for everyone, then their own tools."""
    embed = discord.Embed(title=str(HELP_TITLE), description=str(HELP_INTRO), colour=CALM)
    embed.add_field(name=str(MEMBER_GROUPS), value=_field(MEMBER_GROUP_ENTRIES), inline=False)
    embed.add_field(name=str(MEMBER_SUPPORT), value=_field(MEMBER_SUPPORT_ENTRIES), inline=False)
    if not in_server:
        embed.add_field(
            name=pgettext("embed-field-name", "In a private chat"),
            value=str(HELP_DM_NOTE),
            inline=False,
        )
    if in_server and (facilitator or admin):
        embed.add_field(
            name=str(FACILITATOR_HEADING), value=_field(FACILITATOR_ENTRIES), inline=False
        )
        embed.add_field(
            name=str(FACILITATOR_SESSIONS), value=_field(FACILITATOR_SESSION_ENTRIES), inline=False
        )
    if in_server and admin:
        embed.add_field(name=str(ADMIN_HEADING), value=_field(ADMIN_ENTRIES), inline=False)
    return embed.set_footer(text=str(HELP_FOOTER))
