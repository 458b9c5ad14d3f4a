"""Sessions' persistent components: RSVP buttons on reminder cards and the attendance menu.

Drawn by familybot/ui/sessions.py; answered here through the tree's wrapper. Registered by
the sessions cog; the custom_id formats never change, so old reminder cards still work."""

from __future__ import annotations

import re
from typing import Any

import discord

from familybot.models import Rsvp
from familybot.models.audit import AuditTarget, TargetKind
from familybot.tree import Audited, Reply, guarded
from familybot.ui.sessions import (
    ATTENDANCE_TEMPLATE,
    RSVP_TEMPLATE,
    attendance_saved_text,
    attendance_select,
    rsvp_button,
    rsvp_thanks,
    with_counts,
)


class RsvpButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=RSVP_TEMPLATE):
    """Going / Maybe / Can't make it. The ledger id lets a restarted bot find what it sent."""

    def __init__(self, series_id: int, key: str, response: Rsvp, ledger_id: int | None) -> None:
        super().__init__(rsvp_button(series_id, key, response, ledger_id))
        self.series_id = series_id
        self.key = key
        self.response = response

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> RsvpButton:
        ledger = int(match["ledger"]) if match["ledger"] else None
        return cls(int(match["series"]), match["key"], Rsvp(match["response"]), ledger)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async def work() -> Reply:
            outcome = await interaction.client.services.sessions.attendance.rsvp(
                self.series_id,
                self.key,
                interaction.user.id,
                self.response,
                guild_id=interaction.guild_id,
            )

            async def reply() -> None:
                thanks = rsvp_thanks(self.response, outcome.occurrence.start_utc)
                embed = with_counts(interaction.message, outcome.counts)
                if embed is None:
                    await interaction.response.send_message(thanks, ephemeral=True)
                    return
                # Everyone sees the new numbers; only the person sees their own reply.
                await interaction.response.edit_message(embed=embed)
                await interaction.followup.send(thanks, ephemeral=True)

            return reply

        await guarded(interaction, "rsvp button", work)


class AttendanceSelect(
    discord.ui.DynamicItem[discord.ui.UserSelect[Any]], template=ATTENDANCE_TEMPLATE
):
    """Facilitators pick who attended one occurrence."""

    def __init__(self, series_id: int, key: str, present: list[int] | None = None) -> None:
        super().__init__(attendance_select(series_id, key, present))
        self.series_id = series_id
        self.key = key

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AttendanceSelect:
        return cls(int(match["series"]), match["key"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async def work() -> Reply:
            chosen = [u.id for u in self.item.values]
            marked, ignored = await interaction.client.services.sessions.attendance.mark_attendance(
                self.series_id, self.key, chosen, interaction.user.id, guild_id=interaction.guild_id
            )

            async def reply() -> None:
                await interaction.response.edit_message(
                    content=attendance_saved_text(self.key, marked, ignored), view=None
                )

            return reply

        audit = Audited("select.attendance", AuditTarget(self.series_id, TargetKind.SESSION))
        await guarded(interaction, "attendance select", work, audit=audit, facilitators_only=True)


SESSION_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (RsvpButton, AttendanceSelect)
