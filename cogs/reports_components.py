"""The report menu (“What's wrong?”) under the private prompt of Report to facilitators.

Drawn by familybot/ui/reports.py; answered here. Registered by the reports cog; the
custom_id format never changes, so a prompt shown before a restart still works."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from cogs.crisis_lines import crisis_reply
from familybot.errors import UserFacingError
from familybot.i18n import _
from familybot.models.reports import ReportCategory, ReportRequest
from familybot.tree import message_for, report_error
from familybot.ui.reports import (
    AT_RISK_NOTE,
    CATEGORY_LABELS,
    OPENING,
    REPORT_TEMPLATE,
    opened_text,
    report_category_select,
)

log = logging.getLogger(__name__)


class ReportCategorySelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]], template=REPORT_TEMPLATE
):
    """“What's wrong?”: opens the private thread with the facilitators."""

    def __init__(self, channel_id: int, message_id: int, author_id: int) -> None:
        super().__init__(report_category_select(channel_id, message_id, author_id))
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
        # Not the tree's guarded(): whatever goes wrong, someone at risk still gets the
        # crisis lines, so errors are answered here.
        values = self.item.values
        category = ReportCategory(values[0]) if values and values[0] in CATEGORY_LABELS else None
        guild = interaction.guild
        if category is None or guild is None:
            await report_error(
                interaction, UserFacingError(_("Please choose from the list.")), "report select"
            )
            return
        if guild.get_channel_or_thread(self.channel_id) is None:
            gone = _("I can't find that message's channel any more, so nothing was sent.")
            await report_error(interaction, UserFacingError(gone), "report select")
            return
        at_risk = category is ReportCategory.AT_RISK
        try:
            # Answer at once (and take the menu away so it can't be sent twice); opening the
            # thread takes several calls to Discord.
            await interaction.response.edit_message(content=str(OPENING), view=None)
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
    embeds = [crisis_reply(interaction.client, interaction.guild_id)] if at_risk else []
    if at_risk:
        text = f"{text}\n\n{AT_RISK_NOTE!s}"
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, embeds=embeds, ephemeral=True)
        else:
            await interaction.response.send_message(text, embeds=embeds, ephemeral=True)
    except discord.HTTPException:
        log.warning("report reply not delivered interaction=%d", interaction.id)


REPORT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ReportCategorySelect,)
