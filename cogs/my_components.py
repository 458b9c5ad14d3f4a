"""`/my forget`'s Confirm / Cancel: for the one person who asked; it times out instead of
surviving a restart, so it is an ordinary view, created and answered by the my cog."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from familybot.i18n import pgettext
from familybot.models.privacy import ForgetReport
from familybot.ui.privacy import (
    CANCELLED,
    CONFIRM_SECONDS,
    FAILED,
    ONLY_YOU,
    TIMED_OUT,
    forget_done,
)

ForgetAction = Callable[[], Awaitable[ForgetReport]]


class ForgetConfirmView(discord.ui.View):
    """Confirm / Cancel for one person; no need to survive a restart (it times out instead)."""

    def __init__(self, requester_id: int, forget: ForgetAction) -> None:
        super().__init__(timeout=CONFIRM_SECONDS)
        self._requester_id = requester_id
        self._forget = forget
        self.message: discord.InteractionMessage | None = None
        self.report: ForgetReport | None = None
        # Labelled per view, so the buttons speak the reader's language.
        self.confirm.label = pgettext("button", "Yes, forget me")
        self.cancel.label = pgettext("button", "Cancel")

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self._requester_id:
            await interaction.response.send_message(str(ONLY_YOU), ephemeral=True)
            return False
        return True

    @discord.ui.button(label="Yes, forget me", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.defer()  # removing roles can take a few seconds
        try:
            self.report = await self._forget()
        except Exception:
            await interaction.edit_original_response(content=str(FAILED), view=None)
            raise
        await interaction.edit_original_response(content=forget_done(self.report), view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content=str(CANCELLED), view=None)

    async def on_timeout(self) -> None:
        if self.message is not None:
            # The ephemeral message may be gone already; nothing was deleted either way.
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(content=str(TIMED_OUT), view=None)
