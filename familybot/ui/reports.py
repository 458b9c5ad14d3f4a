"""What reports and /ask show: the "what's wrong?" menu, the messages inside the private
thread, the note for the alerts channel and the replies to the member. Display only."""

from __future__ import annotations

from typing import Any

import discord

from familybot.models.reports import (
    ContactAlert,
    Opened,
    PrivateContact,
    ReportCategory,
    ReportKind,
)
from familybot.ui.components import PostedView
from familybot.ui.text import channel_mention, defuse, role_mention, user_mention

CATEGORY_LABELS: dict[str, str] = {
    ReportCategory.AT_RISK: "Someone may be at risk",
    ReportCategory.UNKIND: "Unkind or harassing",
    ReportCategory.SPAM: "Spam or a scam",
    ReportCategory.OTHER: "Something else",
}
CATEGORY_HINTS: dict[str, str] = {
    ReportCategory.AT_RISK: "They may be in danger, or may hurt themselves or someone else",
    ReportCategory.UNKIND: "Hurtful, threatening or targeting someone",
    ReportCategory.SPAM: "Advertising, suspicious links, asking for money",
    ReportCategory.OTHER: "You can explain in the private thread",
}

PROMPT = (
    "What's wrong with this message? Choose below and I'll open a private thread between you "
    "and the facilitators. Only you can see this; nothing is sent until you choose."
)
OWN_MESSAGE = (
    "That's your own message. To talk with the facilitators privately, use `/ask`. "
    "If you need help right now, `/crisis` always works."
)
OPENING = "Thank you. I'm opening a private thread with the facilitators…"
AT_RISK_NOTE = (
    "The facilitators care, but they aren't an emergency service and may not see this "
    "straight away. If someone is in danger right now, please call your local emergency "
    "number or one of the lines below."
)


def jump_url(guild_id: int, channel_id: int, message_id: int | None = None) -> str:
    tail = f"/{message_id}" if message_id is not None else ""
    return f"https://discord.com/channels/{guild_id}/{channel_id}{tail}"


def category_label(category: str | None) -> str:
    return CATEGORY_LABELS.get(category or "", "Something else")


def _where(is_thread: bool) -> str:
    return "thread" if is_thread else "channel"


# --- inside the private thread (or channel) --------------------------------------------------
def opening_text(contact: PrivateContact, is_thread: bool) -> str:
    """The first message: the role mention brings the facilitators in (the only ping)."""
    privacy = (
        f"Only they, the facilitators and FamilyBot can see this {_where(is_thread)}. "
        "Please reply here."
    )
    if contact.kind == ReportKind.ASK:
        return (
            f"{role_mention(contact.facilitator_role_id)} {user_mention(contact.member_id)} "
            f"would like to talk privately with the facilitators (#{contact.number}); their "
            f"message is below. {privacy}"
        )
    lines = [
        f"{role_mention(contact.facilitator_role_id)} Private report #{contact.number}: "
        f"**{category_label(contact.category)}**.",
        f"Reported by {user_mention(contact.member_id)}.",
    ]
    if contact.reported_message_id is not None:
        author = (
            f" (written by {user_mention(contact.reported_author_id)})"
            if contact.reported_author_id is not None
            else ""
        )
        link = jump_url(contact.guild_id, contact.channel_id, contact.reported_message_id)
        lines.append(f"The message: {link}{author}")
    if contact.category == ReportCategory.AT_RISK:
        lines.append("They have been shown the crisis lines.")
    lines.append(privacy)
    return "\n".join(lines)


def question_text(contact: PrivateContact) -> str:
    """The member's own words for /ask, made inert (sent with mentions off as well)."""
    return f"**From {user_mention(contact.member_id)}:**\n{defuse(contact.question or '')}"


def alert_text(alert: ContactAlert) -> str:
    """For the private alerts channel: what and where, no names."""
    link = f"{channel_mention(alert.space_id)} ({jump_url(alert.guild_id, alert.space_id)})"
    if alert.kind == ReportKind.ASK:
        return f"A member would like to talk privately (#{alert.number}): {link}"
    return f"New private report #{alert.number}, **{category_label(alert.category)}**: {link}"


# --- replies to the member --------------------------------------------------------------------
def opened_text(opened: Opened) -> str:
    where = f"a private {_where(opened.space.is_thread)}"
    link = channel_mention(opened.space.channel_id)
    if opened.kind is ReportKind.ASK:
        return (
            f"I've opened {where} with the facilitators and put your message in it: {link}. "
            "Only you, the facilitators and I can see it; they'll reply there."
        )
    return (
        f"Thank you for telling us. I've opened {where} with the facilitators: {link}. Only "
        "you, the facilitators and I can see it; you can add anything more there."
    )


REPORT_TEMPLATE = r"fb:report:(?P<channel>\d+):(?P<message>\d+):(?P<author>\d+)"


def report_category_select(
    channel_id: int, message_id: int, author_id: int
) -> discord.ui.Select[Any]:
    """“What's wrong?” under the ephemeral prompt; the ids live in the custom_id, so it still
    works after a restart."""
    options = [
        discord.SelectOption(label=CATEGORY_LABELS[c], value=c.value, description=CATEGORY_HINTS[c])
        for c in ReportCategory
    ]
    return discord.ui.Select(
        placeholder="Choose what's wrong",
        options=options,
        custom_id=f"fb:report:{channel_id}:{message_id}:{author_id}",
    )


def report_prompt_view(channel_id: int, message_id: int, author_id: int) -> discord.ui.View:
    view = PostedView()
    view.add_item(report_category_select(channel_id, message_id, author_id))
    return view
