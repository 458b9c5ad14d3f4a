"""/my data and /my forget: the words people read and the confirm buttons."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from familybot.services.privacy import ForgetReport

DATA_FILENAME = "familybot-my-data.json"
CONFIRM_SECONDS = 180

DATA_INTRO = (
    "Here is everything FamilyBot stores about you, in every server this FamilyBot serves, "
    "as a JSON file (only you can see this). `/my forget` deletes it."
)

FORGET_EXPLAINED = (
    "**Forget me: are you sure?**\n"
    "This deletes what FamilyBot stores about you, in every server this FamilyBot serves:\n"
    "• your places in groups, waitlists and join requests, with your consent records. "
    "You'll leave those groups and their private channels\n"
    "• your RSVPs, attendance, time zone and reminder settings, your calendar choices and "
    "private calendar links (they stop working), and the record of reminders sent to you by DM\n"
    "• resources you suggested that weren't approved, and facilitators' private notes about you\n"
    "**What stays:** moderation cases (warnings, timeouts, kicks, bans) and any removal from a "
    "group or denied request, as the server's record, and the log of facilitator actions "
    "(ids only). Things you added as a facilitator (sessions, "
    "FAQ answers, resources, crisis lines) stay for the server, without your name.\n"
    "Your messages in Discord are Discord's: you can delete those there.\n"
    "This can't be undone."
)

CANCELLED = "Nothing was deleted. Your groups and settings are just as they were."
TIMED_OUT = "This request timed out, so nothing was deleted. Run `/my forget` again any time."
ONLY_YOU = "Only the person who asked can answer this."
FAILED = (
    "Something went wrong part-way, so some of your data may still be here. Please run "
    "`/my forget` again, or ask a facilitator for help."
)

# How each holder's part reads in the summary.
_LABELS = {
    "groups": "group places and roles",
    "sessions": "RSVPs, attendance and reminder settings",
    "moderation": "private notes",
    "resources": "suggestions",
    "departures": "departure records",
}


def data_file(data: dict[str, Any]) -> discord.File:
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()
    return discord.File(io.BytesIO(body), filename=DATA_FILENAME)


def forget_done(report: ForgetReport) -> str:
    parts = [f"{n} {_LABELS[k]}" for k, n in report.counts.items() if n and k in _LABELS]
    others = sum(n for k, n in report.counts.items() if k not in _LABELS)
    if others:
        parts.append(f"{others} other records")
    detail = f" ({', '.join(parts)})" if parts else ""
    return (
        f"Done. FamilyBot has forgotten you: {report.total} records removed or made anonymous"
        f"{detail}. Take care of yourself. 💙 `/crisis` is always here if you need it."
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

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self._requester_id:
            await interaction.response.send_message(ONLY_YOU, ephemeral=True)
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
            await interaction.edit_original_response(content=FAILED, view=None)
            raise
        await interaction.edit_original_response(content=forget_done(self.report), view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content=CANCELLED, view=None)

    async def on_timeout(self) -> None:
        if self.message is not None:
            # The ephemeral message may be gone already; nothing was deleted either way.
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(content=TIMED_OUT, view=None)
