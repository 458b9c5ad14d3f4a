"""Resource library display: cards, lists, review buttons and the reject modal.

Every resource text is user-supplied: it is made inert (no pings, no masked links, no hidden
direction or zero-width characters) and cut to Discord's limits at word boundaries.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import discord

from familybot import i18n
from familybot.i18n import _, npgettext, pgettext
from familybot.models import Resource
from familybot.models.resources import REASON_MAX, ReviewDecision
from familybot.ui.components import PostedView
from familybot.ui.text import ZERO_WIDTH_SPACE, clip, ts, user_mention

LIBRARY = discord.Colour(0x57A773)
EMBED_TOTAL = 6000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_MAX = 1024
LIST_MAX = 15
# Card budget: title 256 + description 3000 + link 600 + 4 short fields + footer < 6000.
CARD_DESCRIPTION_MAX = 3000
CARD_FIELD_MAX = 200

_MENTION_RE = re.compile(r"<(@[!&]?|#)(?=\d)")


_BRACKET_RE = re.compile(r"(\\*)\[")


def inert(text: str) -> str:
    """User text made safe to show: no hidden characters, markdown escaped, mentions defused."""
    kept = "".join(
        ch if ch == "\n" else " " if ch.isspace() else ch
        for ch in text
        if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    escaped = discord.utils.escape_markdown(kept)
    # escape_markdown escapes only the first of several masked links ("[a](…) [b](…)"): escape
    # every "[" it left (it doubles backslashes, so an even run before one means unescaped).
    escaped = _BRACKET_RE.sub(lambda m: m[1] + ("[" if len(m[1]) % 2 else "\\["), escaped)
    escaped = escaped.replace("@everyone", f"@{ZERO_WIDTH_SPACE}everyone")
    escaped = escaped.replace("@here", f"@{ZERO_WIDTH_SPACE}here")
    return _MENTION_RE.sub(lambda m: f"<{ZERO_WIDTH_SPACE}{m[1]}", escaped)


def defuse_url(url: str) -> str:
    """A validated URL shown as text: mentions defused, markdown left alone (it is a link)."""
    text = url.replace("@everyone", f"@{ZERO_WIDTH_SPACE}everyone")
    text = text.replace("@here", f"@{ZERO_WIDTH_SPACE}here")
    return _MENTION_RE.sub(lambda m: f"<{ZERO_WIDTH_SPACE}{m[1]}", text)


def fit(text: str, limit: int) -> str:
    """Inert and clipped; never empty (Discord rejects empty embed parts)."""
    return clip(inert(text).strip(), limit) or "—"


def resource_embed(resource: Resource) -> discord.Embed:
    """The clean card posted by /resource share (and shown in review)."""
    embed = discord.Embed(
        title=fit(resource.title, TITLE_MAX),
        url=resource.url,
        description=fit(resource.description, CARD_DESCRIPTION_MAX),
        colour=LIBRARY,
    )
    embed.add_field(
        name=pgettext("embed-field-name", "Link"),
        value=clip(defuse_url(resource.url), 600),
        inline=False,
    )
    embed.add_field(
        name=pgettext("embed-field-name", "Category"), value=fit(resource.category, CARD_FIELD_MAX)
    )
    for name, value in (
        (pgettext("embed-field-name", "Region"), resource.region),
        (pgettext("embed-field-name", "Language"), resource.language),
        (pgettext("embed-field-name", "For"), resource.audience),
    ):
        if value:
            embed.add_field(name=name, value=fit(value, CARD_FIELD_MAX))
    if resource.vetted_at is not None:
        embed.set_footer(
            text=pgettext("embed-footer", "Vetted by this server's facilitators on {day}").format(
                day=i18n.format_date(resource.vetted_at, "medium")
            )
        )
    return embed


def _list_line(resource: Resource) -> str:
    return (
        f"**{fit(resource.title, 150)}** · {fit(resource.category, 50)}\n"
        f"{clip(defuse_url(resource.url), 600)}"
    )


def resource_list_embed(
    resources: list[Resource],
    heading: str,
    empty: str,
    *,
    numbered: bool = False,
    total: int | None = None,
) -> discord.Embed:
    """Up to LIST_MAX of `resources`; `total` (when only the first are given) counts the rest."""
    embed = discord.Embed(title=fit(heading, TITLE_MAX), colour=LIBRARY)
    if not resources:
        embed.description = empty
        return embed
    lines = []
    for index, resource in enumerate(resources[:LIST_MAX], start=1):
        line = _list_line(resource)
        lines.append(f"{index}. {line}" if numbered else line)
    more = (len(resources) if total is None else total) - min(len(resources), LIST_MAX)
    if more > 0:
        lines.append(_("…and {n} more. Narrow it with a category.").format(n=more))
    body = ""
    for line in lines:  # whole entries only, so a cut never splits a link
        if len(body) + len(line) + 2 > DESCRIPTION_MAX - 40:
            body += "\n\n" + _("…and more. Try a narrower search.")
            break
        body = f"{body}\n\n{line}" if body else line
    embed.description = body
    embed.set_footer(
        text=pgettext(
            "embed-footer",
            "Share one with /resource share. Every item was vetted by a facilitator.",
        )
    )
    return embed


def resource_search_embed(found: list[Resource], query: str) -> discord.Embed:
    """`/resource search` (and the start-here panel's Resources search box)."""
    return resource_list_embed(
        found,
        pgettext("embed-title", "Resources for “{query}”").format(query=query),
        _("Nothing in the library matches that yet. Try other words, or `/resource list`."),
        numbered=True,
    )


def review_embed(resource: Resource, pending: int) -> discord.Embed:
    embed = resource_embed(resource)
    embed.title = fit(
        pgettext("embed-title", "For review: {title}").format(title=resource.title), TITLE_MAX
    )
    who = user_mention(resource.suggested_by) if resource.suggested_by else _("someone")
    embed.add_field(
        name=pgettext("embed-field-name", "Suggested"),
        value=pgettext("embed-field", "by {who}, {when}").format(
            who=who, when=ts(resource.suggested_at, "R")
        ),
        inline=False,
    )
    embed.set_footer(
        text=npgettext(
            "embed-footer",
            "{n} suggestion waiting in all.",
            "{n} suggestions waiting in all.",
            pending,
        ).format(n=pending)
    )
    return embed


def decision_text(decision: ReviewDecision, actor_id: int) -> str:
    title = fit(decision.resource.title, 150)
    if decision.already_decided:
        if decision.approved:
            return _("“{title}” was already handled (added to the library).").format(title=title)
        return _("“{title}” was already handled (not added).").format(title=title)
    told = (
        _("The person who suggested it was told by DM.")
        if decision.suggester_told
        else _("I couldn't tell the person who suggested it by DM.")
    )
    if decision.approved:
        text = _("“{title}”: approved by {who} and added to the library.")
    else:
        text = _("“{title}”: not added, by {who}.")
    return text.format(title=title, who=user_mention(actor_id)) + " " + told


REVIEW_TEMPLATE = r"fb:res:(?P<id>\d+):(?P<action>approve|reject)"


def review_button(resource_id: int, action: str) -> discord.ui.Button[Any]:
    """Approve / Reject under a pending suggestion; Reject opens the reason modal."""
    approve = action == "approve"
    return discord.ui.Button(
        label=pgettext("button", "Approve") if approve else pgettext("button", "Reject"),
        style=discord.ButtonStyle.success if approve else discord.ButtonStyle.secondary,
        custom_id=f"fb:res:{resource_id}:{action}",
    )


REJECT_MODAL_RE = re.compile(r"^fb:res-reject:(?P<id>\d+)$")


class RejectModal(discord.ui.Modal):
    """Asks for the reason. Its submit is answered by cogs/resources_components.py
    (handle_reject_submit), also after a restart."""

    def __init__(self, resource_id: int) -> None:
        super().__init__(
            title=pgettext("modal-title", "Reject this suggestion"),
            custom_id=f"fb:res-reject:{resource_id}",
            timeout=900,
        )
        # Built per opening, so the labels are in the reader's language.
        self.reason: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=pgettext("modal-label", "Why isn't it right for the library?"),
            style=discord.TextStyle.paragraph,
            custom_id="reason",
            min_length=1,
            max_length=REASON_MAX,
            placeholder=pgettext(
                "modal-placeholder", "The person who suggested it will see this reason."
            ),
        )
        self.add_item(self.reason)


def review_view(resource_id: int) -> discord.ui.View:
    view = PostedView()
    view.add_item(review_button(resource_id, "approve"))
    view.add_item(review_button(resource_id, "reject"))
    return view
