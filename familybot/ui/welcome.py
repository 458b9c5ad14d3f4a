"""The start-here panel (`/setup welcome`); `/help` is in ui/help.py.

Every sentence people read here comes from the message catalog: module-level texts are
lazy (translated for each reader when used), the rest are looked up inside functions.

The panel's buttons keep their state in the custom_id and are answered by the items in
cogs/welcome_components.py (registered by the help cog), so they work after a restart;
everything they open is ephemeral, and nothing names a member.
"""

from __future__ import annotations

from typing import Any

import discord

from familybot.i18n import LazyString, _, lazy_gettext, lazy_pgettext
from familybot.models.groups import GroupSummary
from familybot.ui.components import PostedView
from familybot.ui.embeds import CALM, group_list_embed
from familybot.ui.text import channel_mention, clip

NONE = discord.AllowedMentions.none()

# --- the panel itself --------------------------------------------------------------------
PANEL_TITLE = lazy_pgettext(
    "embed-title",
    "Start here 💙",
)
PANEL_TEXT = lazy_pgettext(
    "embed-description",
    "Welcome. This server is a place for families to support each other in small, private "
    "groups with trained facilitators.\n\n"
    "Press a button below. What you see next is shown **only to you**, and nobody is told "
    "that you pressed it.\n\n"
    "**Find a group**: the groups, who each is for, and when they meet. Pick one to join.\n"
    "**My sessions**: your groups' sessions in the next two weeks.\n"
    "**Resources**: search the library of helpful links our facilitators have checked.\n"
    "**Crisis lines**: people you can reach right now, day or night.\n"
    "**How this works**: what the bot keeps, who sees what, and how to leave.",
)
PANEL_FOOTER = lazy_pgettext(
    "embed-footer",
    "You can also type / in any channel to see every command, or use /help.",
)

FIND_LABEL = lazy_pgettext(
    "button",
    "Find a group",
)
MINE_LABEL = lazy_pgettext(
    "button",
    "My sessions",
)
RESOURCES_LABEL = lazy_pgettext(
    "button",
    "Resources",
)
CRISIS_LABEL = lazy_pgettext(
    "button",
    "Crisis lines",
)
HOW_LABEL = lazy_pgettext(
    "button",
    "How this works",
)

# --- what the buttons open ---------------------------------------------------------------
FIND_FOOTER = lazy_pgettext(
    "embed-footer",
    "Pick a group below to read its guidelines and join. Who is in a group is never shown.",
)
FIND_PLACEHOLDER = lazy_pgettext(
    "select-placeholder",
    "Choose a group to join",
)
PICK_MAX = 25  # Discord's limit on a menu's options

SEARCH_TITLE = lazy_pgettext(
    "modal-title",
    "Search the resources",
)
SEARCH_LABEL = lazy_pgettext(
    "modal-label",
    "What are you looking for?",
)
SEARCH_PLACEHOLDER = lazy_pgettext(
    "modal-placeholder",
    "A word or two, e.g. sleep, school, siblings",
)
SEARCH_MAX = 100

GUILD_ONLY = lazy_gettext("This works inside the server, from its start-here panel.")

HOW_TITLE = lazy_pgettext(
    "embed-title",
    "How this works",
)
HOW_SECTIONS: tuple[tuple[LazyString, LazyString], ...] = (
    (
        lazy_pgettext("embed-field-name", "What the bot keeps"),
        lazy_pgettext(
            "embed-field",
            "Your Discord id (a number, not your name) next to the groups you joined and the "
            "guidelines you agreed to, your replies to sessions, attendance a facilitator marks, "
            "your time zone and reminder choices, a resource you suggest, and a note (not the "
            "words) that you reported a message or asked the facilitators something. It doesn't "
            "keep the messages you write in your group's channel.",
        ),
    ),
    (
        lazy_pgettext("embed-field-name", "Who can see what"),
        lazy_pgettext(
            "embed-field",
            "Everyone here can see that a group exists, who it is for and when it meets, never "
            "who is in it. A group's channel is seen only by its members and facilitators, and "
            "its facilitators see its member list, replies and attendance. Nothing on your "
            "profile shows which group you are in. What these buttons show you is seen by you "
            "alone.",
        ),
    ),
    (
        lazy_pgettext("embed-field-name", "Leaving, or being forgotten"),
        lazy_pgettext(
            "embed-field",
            "Leave a group any time with `/group leave`; nobody else is told. `/my data` sends "
            "you a copy of everything stored about you, and `/my forget` deletes it (it asks "
            "first, and tells you the little the server keeps, such as moderation records). Old "
            "replies and attendance are deleted after a while, and what the bot keeps about you "
            "here goes 30 days after you leave this server.",
        ),
    ),
    (
        lazy_pgettext("embed-field-name", "Facilitators are not an emergency service"),
        lazy_pgettext(
            "embed-field",
            "Facilitators are people who may not see a message for hours, and the bot never "
            "gives medical advice. If you or someone you love is in danger now, call your local "
            "emergency number or press **Crisis lines**.",
        ),
    ),
)


# --- /setup welcome replies ---------------------------------------------------------------
def N_(message: str) -> str:  # gettext's name for "mark for the catalog only"
    """Marks a template for extraction; welcome_reply translates it when it is used."""
    return message


WELCOME_POSTED = N_("Done. I posted the start-here panel in {channel}.")
WELCOME_UPDATED = N_("Done. I updated the start-here panel in {channel} in place (no new message).")
WELCOME_REPOSTED = N_(
    "The start-here panel I posted before was deleted, so I posted a new one in {channel}."
)
WELCOME_MOVED = N_(
    "Done. I posted the start-here panel in {channel} and removed the old one from {old}."
)
WELCOME_MOVED_OLD_KEPT = N_(
    "Done. I posted the start-here panel in {channel}. I couldn't remove the old one from "
    "{old}: please delete it there yourself."
)


class _Phrase(LazyString):
    """A lazy text that may also be joined with + to a plain string (as `/setup show` does)."""

    __slots__ = ()

    @classmethod
    def of(cls, lazy: LazyString) -> _Phrase:
        return cls(lazy.message, lazy.context)

    def __add__(self, other: object) -> str:
        return str(self) + str(other)

    def __radd__(self, other: object) -> str:
        return str(other) + str(self)


PANEL_NOT_POSTED = _Phrase.of(lazy_gettext("not posted (`/setup welcome` posts it)"))
WELCOME_PIN_TIP = lazy_gettext("Tip: pin it, and let members read but not post in that channel.")


def welcome_missing_permissions(channel_id: int, labels: list[str]) -> str:
    """`/setup welcome` refuses kindly when the bot can't post (or later read) the panel."""
    missing = ", ".join(f"**{label}**" for label in labels)
    return _(
        "I can't post the panel in {channel}: I'm missing {permissions} there. Please allow "
        "them for FamilyBot in that channel's permissions (or pick another channel), then run "
        "`/setup welcome` again. Nothing was posted."
    ).format(channel=channel_mention(channel_id), permissions=missing)


def welcome_reply(
    template: str | LazyString, channel_id: int, old_channel_id: int | None = None
) -> str:
    text = _(str(template)).format(
        channel=channel_mention(channel_id),
        old=channel_mention(old_channel_id) if old_channel_id else "",
    )
    return f"{text} {WELCOME_PIN_TIP}"


# --- the panel ----------------------------------------------------------------------------
def panel_embed() -> discord.Embed:
    """Posted to a channel: the caller renders it in the server's language."""
    return discord.Embed(
        title=str(PANEL_TITLE), description=str(PANEL_TEXT), colour=CALM
    ).set_footer(text=str(PANEL_FOOTER))


PANEL_BUTTONS: dict[str, tuple[LazyString, discord.ButtonStyle, str]] = {
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
    return discord.ui.Button(
        label=str(label), style=style, emoji=emoji, custom_id=f"fb:panel:{action}"
    )


def panel_view() -> discord.ui.View:
    view = PostedView()
    for action in ("find", "mine", "resources", "crisis", "how"):
        view.add_item(panel_button(action))
    return view


def how_embed() -> discord.Embed:
    embed = discord.Embed(title=str(HOW_TITLE), colour=CALM)
    for name, value in HOW_SECTIONS:
        embed.add_field(name=str(name), value=str(value), inline=False)
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
        placeholder=str(FIND_PLACEHOLDER),
        min_values=1,
        max_values=1,
        options=options or [discord.SelectOption(label="-", value="0")],
    )


def find_group_reply(summaries: list[GroupSummary]) -> tuple[discord.Embed, discord.ui.View | None]:
    """Find a group: the open groups, and the menu to pick one (none when there are none)."""
    embed = group_list_embed(summaries)
    if not summaries:
        return embed, None
    embed.set_footer(text=str(FIND_FOOTER))
    view = PostedView()
    view.add_item(group_pick(summaries))
    return embed, view


class ResourceSearchModal(discord.ui.Modal):
    """The search box; its submit is answered by cogs/welcome_components.py, from the raw
    submit, so it works across restarts."""

    def __init__(self) -> None:
        # Built per opening (not at class level), so it speaks the reader's language.
        super().__init__(title=str(SEARCH_TITLE), custom_id=SEARCH_MODAL_ID, timeout=900)
        self.query: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=str(SEARCH_LABEL),
            custom_id="query",
            min_length=1,
            max_length=SEARCH_MAX,
            placeholder=str(SEARCH_PLACEHOLDER),
        )
        self.add_item(self.query)
