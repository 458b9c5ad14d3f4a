"""Reports and private contact: the message menu “Report to facilitators” and /ask.

Both open a private thread between the member and the facilitators (see
familybot/discord/reports.py). Everything the member sees is ephemeral.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs.reports_components import REPORT_ITEMS
from familybot.bot import FamilyBot
from familybot.errors import UserFacingError
from familybot.i18n import _
from familybot.models.reports import AskRequest
from familybot.services.reports.service import QUESTION_MAX
from familybot.ui.reports import OWN_MESSAGE, PROMPT, opened_text, report_prompt_view

REPORT_MENU = "Report to facilitators"


class Reports(commands.Cog):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot
        # Context menus can't be declared inside a cog class; add and remove it by hand.
        self.menu = app_commands.ContextMenu(
            name=REPORT_MENU,
            callback=self.report_message,
            allowed_contexts=app_commands.AppCommandContext(
                guild=True, dm_channel=False, private_channel=False
            ),
        )
        self.bot.tree.add_command(self.menu)

    async def cog_load(self) -> None:
        # Its persistent menu: answered by custom_id, also after a restart.
        self.bot.add_dynamic_items(*REPORT_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)
        self.bot.remove_dynamic_items(*REPORT_ITEMS)

    async def report_message(
        self, interaction: discord.Interaction[FamilyBot], message: discord.Message
    ) -> None:
        """Tell the facilitators privately about a message (asks what is wrong first)."""
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if message.author.id == interaction.user.id:
            await interaction.response.send_message(str(OWN_MESSAGE), ephemeral=True)
            return
        await self.bot.services.reports.precheck(interaction.guild_id, interaction.user.id)
        await interaction.response.send_message(
            str(PROMPT),
            view=report_prompt_view(message.channel.id, message.id, message.author.id),
            ephemeral=True,
        )

    @app_commands.command(
        name="ask", description="Talk privately with the facilitators (a private thread)"
    )
    @app_commands.guild_only()
    @app_commands.describe(message="What you'd like to tell or ask them (only they will see it)")
    async def ask(
        self,
        interaction: discord.Interaction[FamilyBot],
        message: app_commands.Range[str, 1, QUESTION_MAX],
    ) -> None:
        """Open a private thread with the facilitators, with your message in it."""
        assert interaction.guild_id is not None and interaction.channel_id is not None
        if not message.strip():
            raise UserFacingError(_("Please write a few words for the facilitators."))
        service = self.bot.services.reports
        await service.precheck(interaction.guild_id, interaction.user.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        opened = await service.ask(
            AskRequest(
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
                member_id=interaction.user.id,
                text=message,
            )
        )
        await interaction.followup.send(opened_text(opened), ephemeral=True)


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(Reports(bot))
