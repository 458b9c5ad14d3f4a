"""What reports and /ask show: the "what's wrong?" menu, the messages inside the private
thread, the note for the alerts channel and the replies to the member. Display only."""

from __future__ import annotations

from typing import Any

import discord

from familybot import i18n
from familybot.i18n import _, lazy_gettext, lazy_pgettext, pgettext
from familybot.models.reports import (
    ContactAlert,
    Opened,
    PrivateContact,
    ReportCategory,
    ReportKind,
)
from familybot.ui.components import PostedView
from familybot.ui.text import channel_mention, defuse, role_mention, user_mention

# Translated when shown (str()), in the reader's language; the option label's context also
# fits the embed text and message content they appear in.
CATEGORY_LABELS: dict[str, i18n.LazyString] = {
    ReportCategory.AT_RISK: lazy_pgettext("select-option", "Someone may be at risk"),
    ReportCategory.UNKIND: lazy_pgettext("select-option", "Unkind or harassing"),
    ReportCategory.SPAM: lazy_pgettext("select-option", "Spam or a scam"),
    ReportCategory.OTHER: lazy_pgettext("select-option", "Something else"),
}
CATEGORY_HINTS: dict[str, i18n.LazyString] = {
    ReportCategory.AT_RISK: lazy_pgettext(
        "select-option-description",
        "They may be in danger, or may hurt themselves or someone else",
    ),
    ReportCategory.UNKIND: lazy_pgettext(
        "select-option-description", "Hurtful, threatening or targeting someone"
    ),
    ReportCategory.SPAM: lazy_pgettext(
        "select-option-description", "Advertising, suspicious links, asking for money"
    ),
    ReportCategory.OTHER: lazy_pgettext(
        "select-option-description", "You can explain in the private thread"
    ),
}

PROMPT = lazy_gettext(
    "What's wrong with this message? Choose below and I'll open a private thread between you "
    "and the facilitators. Only you can see this; nothing is sent until you choose."
)
OWN_MESSAGE = lazy_gettext(
    "That's your own message. To talk with the facilitators privately, use `/ask`. "
    "If you need help right now, `/crisis` always works."
)
OPENING = lazy_gettext("Thank you. I'm opening a private thread with the facilitators…")
AT_RISK_NOTE = lazy_gettext(
    "The facilitators care, but they aren't an emergency service and may not see this "
    "straight away. If someone is in danger right now, please call your local emergency "
    "number or one of the lines below."
)


def jump_url(guild_id: int, channel_id: int, message_id: int | None = None) -> str:
    tail = f"/{message_id}" if message_id is not None else ""
    return f"https://discord.com/channels/{guild_id}/{channel_id}{tail}"


def category_label(category: str | None) -> str:
    return str(CATEGORY_LABELS.get(category or "", CATEGORY_LABELS[ReportCategory.OTHER]))


# --- inside the private thread (or channel) --------------------------------------------------
# Posted in a thread or channel the facilitators share: in the server's language.
def opening_text(contact: PrivateContact, is_thread: bool) -> str:
    """The first message: the role mention brings the facilitators in (the only ping)."""
    with i18n.using(i18n.for_guild(contact.guild_id)):
        return _opening_text(contact, is_thread)


def _opening_text(contact: PrivateContact, is_thread: bool) -> str:
    privacy = (
        _("Only they, the facilitators and FamilyBot can see this thread. Please reply here.")
        if is_thread
        else _("Only they, the facilitators and FamilyBot can see this channel. Please reply here.")
    )
    role = role_mention(contact.facilitator_role_id)
    member = user_mention(contact.member_id)
    if contact.kind == ReportKind.ASK:
        return _(
            "{role} {member} would like to talk privately with the facilitators (#{number}); "
            "their message is below. {privacy}"
        ).format(role=role, member=member, number=contact.number, privacy=privacy)
    lines = [
        _("{role} Private report #{number}: **{category}**.").format(
            role=role, number=contact.number, category=category_label(contact.category)
        ),
        _("Reported by {member}.").format(member=member),
    ]
    if contact.reported_message_id is not None:
        link = jump_url(contact.guild_id, contact.channel_id, contact.reported_message_id)
        if contact.reported_author_id is not None:
            lines.append(
                _("The message: {link} (written by {author})").format(
                    link=link, author=user_mention(contact.reported_author_id)
                )
            )
        else:
            lines.append(_("The message: {link}").format(link=link))
    if contact.category == ReportCategory.AT_RISK:
        lines.append(_("They have been shown the crisis lines."))
    lines.append(privacy)
    return "\n".join(lines)


def question_text(contact: PrivateContact) -> str:
    """The member's own words for /ask, made inert (sent with mentions off as well)."""
    with i18n.using(i18n.for_guild(contact.guild_id)):
        heading = _("**From {member}:**").format(member=user_mention(contact.member_id))
    return f"{heading}\n{defuse(contact.question or '')}"


def alert_text(alert: ContactAlert) -> str:
    """For the private alerts channel: what and where, no names (the server's language)."""
    link = f"{channel_mention(alert.space_id)} ({jump_url(alert.guild_id, alert.space_id)})"
    with i18n.using(i18n.for_guild(alert.guild_id)):
        if alert.kind == ReportKind.ASK:
            return _("A member would like to talk privately (#{number}): {link}").format(
                number=alert.number, link=link
            )
        return _("New private report #{number}, **{category}**: {link}").format(
            number=alert.number, category=category_label(alert.category), link=link
        )


# --- replies to the member --------------------------------------------------------------------
def opened_text(opened: Opened) -> str:
    link = channel_mention(opened.space.channel_id)
    thread = opened.space.is_thread
    if opened.kind is ReportKind.ASK:
        text = (
            _(
                "I've opened a private thread with the facilitators and put your message in "
                "it: {link}. Only you, the facilitators and I can see it; they'll reply there."
            )
            if thread
            else _(
                "I've opened a private channel with the facilitators and put your message in "
                "it: {link}. Only you, the facilitators and I can see it; they'll reply there."
            )
        )
        return text.format(link=link)
    text = (
        _(
            "Thank you for telling us. I've opened a private thread with the facilitators: "
            "{link}. Only you, the facilitators and I can see it; you can add anything more "
            "there."
        )
        if thread
        else _(
            "Thank you for telling us. I've opened a private channel with the facilitators: "
            "{link}. Only you, the facilitators and I can see it; you can add anything more "
            "there."
        )
    )
    return text.format(link=link)


REPORT_TEMPLATE = r"fb:report:(?P<channel>\d+):(?P<message>\d+):(?P<author>\d+)"


def report_category_select(
    channel_id: int, message_id: int, author_id: int
) -> discord.ui.Select[Any]:
    """“What's wrong?” under the ephemeral prompt; the ids live in the custom_id, so it still
    works after a restart."""
    options = [
        discord.SelectOption(
            label=str(CATEGORY_LABELS[c]), value=c.value, description=str(CATEGORY_HINTS[c])
        )
        for c in ReportCategory
    ]
    return discord.ui.Select(
        placeholder=pgettext("select-placeholder", "Choose what's wrong"),
        options=options,
        custom_id=f"fb:report:{channel_id}:{message_id}:{author_id}",
    )


def report_prompt_view(channel_id: int, message_id: int, author_id: int) -> discord.ui.View:
    view = PostedView()
    view.add_item(report_category_select(channel_id, message_id, author_id))
    return view
