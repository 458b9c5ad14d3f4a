"""What reports and /ask show: the "what's wrong?" menu, the messages inside the private
thread, the note for the alerts channel and the replies to the member. Display only."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from familybot.errors import UserFacingError
from familybot.services.ports import ContactAlert, PrivateContact
from familybot.services.reports import Opened, ReportCategory, ReportKind, ReportRequest
from familybot.tree import message_for, report_error
from familybot.ui.help_embeds import crisis_embed
from familybot.ui.text import channel_mention, defuse, role_mention, user_mention

log = logging.getLogger(__name__)

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


def crisis_lines_embed(client: Any, guild_id: int | None) -> discord.Embed:
    """The same lines /crisis shows for this server (from memory: no database needed)."""
    known = client.services.crisis.cached(guild_id)
    region = known.region if known else None
    local = known.local_lines if known else ()
    return crisis_embed(client.crisis_directory.lines_for(region, local), region)


class ReportCategorySelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"fb:report:(?P<channel>\d+):(?P<message>\d+):(?P<author>\d+)",
):
    """“What's wrong?” under the ephemeral prompt; the ids live in the custom_id, so it still
    works after a restart."""

    def __init__(self, channel_id: int, message_id: int, author_id: int) -> None:
        options = [
            discord.SelectOption(
                label=CATEGORY_LABELS[c], value=c.value, description=CATEGORY_HINTS[c]
            )
            for c in ReportCategory
        ]
        super().__init__(
            discord.ui.Select(
                placeholder="Choose what's wrong",
                options=options,
                custom_id=f"fb:report:{channel_id}:{message_id}:{author_id}",
            )
        )
        self.channel_id = channel_id
        self.message_id = message_id
        self.author_id = author_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ReportCategorySelect:
        return cls(int(match["channel"]), int(match["message"]), int(match["author"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        values = self.item.values
        category = ReportCategory(values[0]) if values and values[0] in CATEGORY_LABELS else None
        guild = interaction.guild
        if category is None or guild is None:
            await report_error(
                interaction, UserFacingError("Please choose from the list."), "report select"
            )
            return
        if guild.get_channel_or_thread(self.channel_id) is None:
            gone = "I can't find that message's channel any more, so nothing was sent."
            await report_error(interaction, UserFacingError(gone), "report select")
            return
        at_risk = category is ReportCategory.AT_RISK
        try:
            # Answer at once (and take the menu away so it can't be sent twice); opening the
            # thread takes several calls to Discord.
            await interaction.response.edit_message(content=OPENING, view=None)
            opened = await interaction.client.services.reports.report(
                ReportRequest(
                    guild_id=guild.id,
                    channel_id=self.channel_id,
                    reporter_id=interaction.user.id,
                    message_id=self.message_id,
                    author_id=self.author_id,
                    category=category,
                )
            )
            text = opened_text(opened)
        except Exception as error:
            if not at_risk:
                await report_error(interaction, error, "report select")
                return
            # Whatever went wrong, someone at risk still gets the crisis lines.
            text, expected = message_for(error)
            if not expected:
                log.error("report failed guild=%d", guild.id, exc_info=error)
        await send_result(interaction, text, at_risk)


async def send_result(interaction: discord.Interaction[Any], text: str, at_risk: bool) -> None:
    embeds = [crisis_lines_embed(interaction.client, interaction.guild_id)] if at_risk else []
    if at_risk:
        text = f"{text}\n\n{AT_RISK_NOTE}"
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, embeds=embeds, ephemeral=True)
        else:
            await interaction.response.send_message(text, embeds=embeds, ephemeral=True)
    except discord.HTTPException:
        log.warning("report reply not delivered interaction=%d", interaction.id)


def report_prompt_view(channel_id: int, message_id: int, author_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ReportCategorySelect(channel_id, message_id, author_id))
    return view


REPORT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ReportCategorySelect,)
