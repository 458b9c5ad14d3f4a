"""The start-here panel (`/setup welcome`) and `/help`.

Every sentence people read here is a constant or a small function in this module, so a
later message catalog can take them over in one place.

The panel's buttons keep their state in the custom_id and are answered by the items in
cogs/welcome_components.py (registered by the help cog), so they work after a restart;
everything they open is ephemeral, and nothing names a member.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord

from familybot.models.groups import GroupSummary
from familybot.ui.components import PostedView
from familybot.ui.embeds import CALM, group_list_embed
from familybot.ui.text import channel_mention, clip

NONE = discord.AllowedMentions.none()

# --- the panel itself --------------------------------------------------------------------
PANEL_TITLE = "Start here 💙"
PANEL_TEXT = (
    "Welcome. This server is a place for families to support each other in small, private "
    "groups with trained facilitators.\n\n"
    "Press a button below. What you see next is shown **only to you**, and nobody is told "
    "that you pressed it.\n\n"
    "**Find a group**: the groups, who each is for, and when they meet. Pick one to join.\n"
    "**My sessions**: your groups' sessions in the next two weeks.\n"
    "**Resources**: search the library of helpful links our facilitators have checked.\n"
    "**Crisis lines**: people you can reach right now, day or night.\n"
    "**How this works**: what the bot keeps, who sees what, and how to leave."
)
PANEL_FOOTER = "You can also type / in any channel to see every command, or use /help."

FIND_LABEL = "Find a group"
MINE_LABEL = "My sessions"
RESOURCES_LABEL = "Resources"
CRISIS_LABEL = "Crisis lines"
HOW_LABEL = "How this works"

# --- what the buttons open ---------------------------------------------------------------
FIND_FOOTER = (
    "Pick a group below to read its guidelines and join. Who is in a group is never shown."
)
FIND_PLACEHOLDER = "Choose a group to join"
PICK_MAX = 25  # Discord's limit on a menu's options

SEARCH_TITLE = "Search the resources"
SEARCH_LABEL = "What are you looking for?"
SEARCH_PLACEHOLDER = "A word or two, e.g. sleep, school, siblings"
SEARCH_MAX = 100

GUILD_ONLY = "This works inside the server, from its start-here panel."

HOW_TITLE = "How this works"
HOW_SECTIONS: tuple[tuple[str, str], ...] = (
    (
        "What the bot keeps",
        "Your Discord id (a number, not your name) next to the groups you joined and the "
        "guidelines you agreed to, your replies to sessions, attendance a facilitator marks, "
        "your time zone and reminder choices, a resource you suggest, and a note (not the "
        "words) that you reported a message or asked the facilitators something. It doesn't "
        "keep the messages you write in your group's channel.",
    ),
    (
        "Who can see what",
        "Everyone here can see that a group exists, who it is for and when it meets, never "
        "who is in it. A group's channel is seen only by its members and facilitators, and "
        "its facilitators see its member list, replies and attendance. Nothing on your "
        "profile shows which group you are in. What these buttons show you is seen by you "
        "alone.",
    ),
    (
        "Leaving, or being forgotten",
        "Leave a group any time with `/group leave`; nobody else is told. `/my data` sends "
        "you a copy of everything stored about you, and `/my forget` deletes it (it asks "
        "first, and tells you the little the server keeps, such as moderation records). Old "
        "replies and attendance are deleted after a while, and what the bot keeps about you "
        "here goes 30 days after you leave this server.",
    ),
    (
        "Facilitators are not an emergency service",
        "Facilitators are people who may not see a message for hours, and the bot never "
        "gives medical advice. If you or someone you love is in danger now, call your local "
        "emergency number or press **Crisis lines**.",
    ),
)

# --- /setup welcome replies ---------------------------------------------------------------
WELCOME_POSTED = "Done. I posted the start-here panel in {channel}."
WELCOME_UPDATED = "Done. I updated the start-here panel in {channel} in place (no new message)."
WELCOME_REPOSTED = (
    "The start-here panel I posted before was deleted, so I posted a new one in {channel}."
)
WELCOME_MOVED = (
    "Done. I posted the start-here panel in {channel} and removed the old one from {old}."
)
WELCOME_MOVED_OLD_KEPT = (
    "Done. I posted the start-here panel in {channel}. I couldn't remove the old one from "
    "{old}: please delete it there yourself."
)
PANEL_NOT_POSTED = "not posted (`/setup welcome` posts it)"
WELCOME_PIN_TIP = " Tip: pin it, and let members read but not post in that channel."


def welcome_missing_permissions(channel_id: int, labels: list[str]) -> str:
    """`/setup welcome` refuses kindly when the bot can't post (or later read) the panel."""
    missing = ", ".join(f"**{label}**" for label in labels)
    return (
        f"I can't post the panel in {channel_mention(channel_id)}: I'm missing {missing} "
        "there. Please allow them for FamilyBot in that channel's permissions (or pick "
        "another channel), then run `/setup welcome` again. Nothing was posted."
    )


def welcome_reply(template: str, channel_id: int, old_channel_id: int | None = None) -> str:
    text = template.format(
        channel=channel_mention(channel_id),
        old=channel_mention(old_channel_id) if old_channel_id else "",
    )
    return text + WELCOME_PIN_TIP


# --- the panel ----------------------------------------------------------------------------
def panel_embed() -> discord.Embed:
    return discord.Embed(title=PANEL_TITLE, description=PANEL_TEXT, colour=CALM).set_footer(
        text=PANEL_FOOTER
    )


PANEL_BUTTONS: dict[str, tuple[str, discord.ButtonStyle, str]] = {
    "find": (FIND_LABEL, discord.ButtonStyle.primary, "🔎"),
    "mine": (MINE_LABEL, discord.ButtonStyle.secondary, "📅"),
    "resources": (RESOURCES_LABEL, discord.ButtonStyle.secondary, "📚"),
    "crisis": (CRISIS_LABEL, discord.ButtonStyle.danger, "☎️"),
    "how": (HOW_LABEL, discord.ButtonStyle.secondary, "🔒"),
}


PANEL_TEMPLATE = r"fb:panel:(?P<action>find|mine|resources|crisis|how)"
GROUP_PICK_ID = "fb:panel:pick"
SEARCH_MODAL_ID = "fb:panel:search"


def panel_button(action: str) -> discord.ui.Button[Any]:
    """One of the panel's five buttons; anyone may press them, each answer is private."""
    label, style, emoji = PANEL_BUTTONS[action]
    return discord.ui.Button(label=label, style=style, emoji=emoji, custom_id=f"fb:panel:{action}")


def panel_view() -> discord.ui.View:
    view = PostedView()
    for action in ("find", "mine", "resources", "crisis", "how"):
        view.add_item(panel_button(action))
    return view


def how_embed() -> discord.Embed:
    embed = discord.Embed(title=HOW_TITLE, colour=CALM)
    for name, value in HOW_SECTIONS:
        embed.add_field(name=name, value=value, inline=False)
    return embed


def group_pick(summaries: list[GroupSummary] | None = None) -> discord.ui.Select[Any]:
    """The menu under Find a group; picking one starts the join as `/group join` does."""
    options = [
        discord.SelectOption(
            label=clip(" ".join(s.group.name.split()), 100),
            value=str(s.group.id),
            description=clip(" ".join(s.group.focus.split()), 100) or None,
        )
        for s in (summaries or [])[:PICK_MAX]
    ]
    return discord.ui.Select(
        custom_id=GROUP_PICK_ID,
        placeholder=FIND_PLACEHOLDER,
        min_values=1,
        max_values=1,
        options=options or [discord.SelectOption(label="-", value="0")],
    )


def find_group_reply(summaries: list[GroupSummary]) -> tuple[discord.Embed, discord.ui.View | None]:
    """Find a group: the open groups, and the menu to pick one (none when there are none)."""
    embed = group_list_embed(summaries)
    if not summaries:
        return embed, None
    embed.set_footer(text=FIND_FOOTER)
    view = PostedView()
    view.add_item(group_pick(summaries))
    return embed, view


class ResourceSearchModal(discord.ui.Modal):
    """The search box; its submit is answered by cogs/welcome_components.py, from the raw
    submit, so it works across restarts."""

    query: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label=SEARCH_LABEL,
        custom_id="query",
        min_length=1,
        max_length=SEARCH_MAX,
        placeholder=SEARCH_PLACEHOLDER,
    )

    def __init__(self) -> None:
        super().__init__(title=SEARCH_TITLE, custom_id=SEARCH_MODAL_ID, timeout=900)


# --- /help --------------------------------------------------------------------------------
@dataclass(frozen=True)
class HelpEntry:
    example: str  # one real example of the command
    what: str


HELP_TITLE = "What you can do here"
HELP_INTRO = (
    "Type the command in any channel (or press / and pick it). Whatever you see from "
    "FamilyBot is private to you unless it says otherwise."
)
HELP_DM_NOTE = (
    "These work inside the server, not in this private chat (except `/crisis` and `/help`). "
    "If you are a facilitator or an admin, your own tools appear when you use `/help` "
    "inside the server."
)
HELP_FOOTER = "If you need help right now, use /crisis. FamilyBot never gives medical advice."

MEMBER_GROUPS = "Groups and sessions"
MEMBER_SUPPORT = "Support and your data"
FACILITATOR_HEADING = "For facilitators"
FACILITATOR_SESSIONS = "Facilitators: sessions and library"
ADMIN_HEADING = "For admins"

MEMBER_GROUP_ENTRIES: tuple[HelpEntry, ...] = (
    HelpEntry("/group list", "see the groups, who each is for and when they meet"),
    HelpEntry("/group join name:Parents Circle", "join one (you read its guidelines first)"),
    HelpEntry("/group leave name:Parents Circle", "leave a group or its waitlist"),
    HelpEntry("/my schedule", "your sessions in the next two weeks"),
    HelpEntry("/my reminders dm:on offsets:24h, 1h", "get session reminders by DM too"),
    HelpEntry("/my calendar", "your sessions in your calendar app"),
)
MEMBER_SUPPORT_ENTRIES: tuple[HelpEntry, ...] = (
    HelpEntry("/resource search query:sleep", "search the library facilitators checked"),
    HelpEntry("/crisis", "crisis lines you can reach right now"),
    HelpEntry("/ask message:Can we talk?", "talk privately with the facilitators"),
    HelpEntry(
        "Apps → Report to facilitators", "on a message (right-click or long-press) to report it"
    ),
    HelpEntry("/my language choice:Español", "the language FamilyBot uses with you"),
    HelpEntry("/my data", "a copy of everything FamilyBot stores about you"),
    HelpEntry("/my forget", "delete what it stores about you (it asks first)"),
)
FACILITATOR_ENTRIES: tuple[HelpEntry, ...] = (
    HelpEntry(
        "/group create name:Parents Circle description:… focus:parents of teens join-mode:open",
        "a group with its own private channel",
    ),
    HelpEntry("/group members name:Parents Circle", "roster, waitlist and attendance"),
    HelpEntry("/group edit name:Parents Circle capacity:12", "change a group's details"),
    HelpEntry("/group stats name:Parents Circle weeks:12", "attendance over time, chart or CSV"),
    HelpEntry("/mod warn member:@someone reason:…", "moderation, always with a case record"),
)
FACILITATOR_SESSION_ENTRIES: tuple[HelpEntry, ...] = (
    HelpEntry(
        "/session schedule group:Parents Circle title:Check-in date:2026-01-06 time:18:30 "
        "repeat:weekly",
        "one session or a repeating series",
    ),
    HelpEntry("/session edit session:Check-in time:19:00", "change a series from now on"),
    HelpEntry("/session rsvps session:Check-in", "who is coming, who hasn't answered"),
    HelpEntry("/session attendance session:Check-in date:2026-01-06", "mark who attended"),
    HelpEntry("/resource review", "approve or reject suggested resources"),
    HelpEntry("/resource reviewed resource:Family guide", "mark a resource as checked again"),
)
ADMIN_ENTRIES: tuple[HelpEntry, ...] = (
    HelpEntry("/setup show", "the settings, and anything that needs fixing"),
    HelpEntry("/setup facilitator-role role:@Facilitators", "who can run groups"),
    HelpEntry("/setup alerts channel:#facilitator-alerts", "where join requests and alerts go"),
    HelpEntry("/setup welcome channel:#start-here", "post or update the start-here panel"),
    HelpEntry("/setup crisis-region region:United States", "which crisis lines /crisis shows"),
    HelpEntry("/setup audit", "recent facilitator and admin actions"),
    HelpEntry("/setup language language:Español", "the language of reminders and notices"),
)

FIELD_MAX = 1024


def _field(entries: tuple[HelpEntry, ...]) -> str:
    return clip("\n".join(f"`{e.example}`\n{e.what}" for e in entries), FIELD_MAX)


def help_embed(*, in_server: bool, facilitator: bool, admin: bool) -> discord.Embed:
    """What this person can do: the member list for everyone, then their own tools."""
    embed = discord.Embed(title=HELP_TITLE, description=HELP_INTRO, colour=CALM)
    embed.add_field(name=MEMBER_GROUPS, value=_field(MEMBER_GROUP_ENTRIES), inline=False)
    embed.add_field(name=MEMBER_SUPPORT, value=_field(MEMBER_SUPPORT_ENTRIES), inline=False)
    if not in_server:
        embed.add_field(name="In a private chat", value=HELP_DM_NOTE, inline=False)
    if in_server and (facilitator or admin):
        embed.add_field(name=FACILITATOR_HEADING, value=_field(FACILITATOR_ENTRIES), inline=False)
        embed.add_field(
            name=FACILITATOR_SESSIONS, value=_field(FACILITATOR_SESSION_ENTRIES), inline=False
        )
    if in_server and admin:
        embed.add_field(name=ADMIN_HEADING, value=_field(ADMIN_ENTRIES), inline=False)
    return embed.set_footer(text=HELP_FOOTER)
