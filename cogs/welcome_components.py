"""The start-here panel's buttons, its group menu and its Resources search box.

Drawn by familybot/ui/welcome.py; answered here through the tree's wrapper. Registered
by the help cog; the custom_id formats never change, so a panel posted long ago still works.
Everything answered here is ephemeral and nothing names a member."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from cogs.crisis_lines import crisis_reply
from cogs.groups_components import send_join_prompt
from familybot.errors import UserFacingError
from familybot.tree import guarded, submitted_value
from familybot.ui.resources import resource_search_embed
from familybot.ui.sessions import my_schedule_embed
from familybot.ui.text import defuse
from familybot.ui.welcome import (
    GROUP_PICK_ID,
    GUILD_ONLY,
    NONE,
    PANEL_TEMPLATE,
    SEARCH_MAX,
    SEARCH_MODAL_ID,
    ResourceSearchModal,
    find_group_reply,
    group_pick,
    how_embed,
    panel_button,
)

log = logging.getLogger(__name__)


def _guild_id(interaction: discord.Interaction[Any]) -> int:
    if interaction.guild_id is None:
        raise UserFacingError(str(GUILD_ONLY))
    return interaction.guild_id


class PanelButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=PANEL_TEMPLATE):
    """One of the panel's five buttons; anyone may press them, each answer is private."""

    def __init__(self, action: str) -> None:
        super().__init__(panel_button(action))
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PanelButton:
        return cls(match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Ids only, never at INFO: who opened what says nothing the logs need.
        log.debug("panel button action=%s interaction=%d", self.action, interaction.id)

        async def work() -> None:
            if self.action == "crisis":  # from memory only: works with the database down
                await interaction.response.send_message(
                    embed=crisis_reply(interaction.client, interaction.guild_id),
                    ephemeral=True,
                    allowed_mentions=NONE,
                )
            elif self.action == "how":
                await interaction.response.send_message(
                    embed=how_embed(), ephemeral=True, allowed_mentions=NONE
                )
            elif self.action == "resources":
                await interaction.response.send_modal(ResourceSearchModal())
            elif self.action == "find":
                await _find_group(interaction)
            else:
                await _my_sessions(interaction)

        await guarded(interaction, "start-here panel", work)


async def _find_group(interaction: discord.Interaction[Any]) -> None:
    summaries = await interaction.client.services.groups.list_groups(_guild_id(interaction))
    embed, view = find_group_reply(summaries)
    if view is None:
        await interaction.response.send_message(embed=embed, ephemeral=True)
        return
    await interaction.response.send_message(
        embed=embed, view=view, ephemeral=True, allowed_mentions=NONE
    )


async def _my_sessions(interaction: discord.Interaction[Any]) -> None:
    sessions = interaction.client.services.sessions
    items = await sessions.my_schedule(_guild_id(interaction), interaction.user.id)
    tz = await sessions.prefs_timezone(interaction.user.id)
    await interaction.response.send_message(
        embed=my_schedule_embed(items, tz), ephemeral=True, allowed_mentions=NONE
    )


class GroupPick(discord.ui.DynamicItem[discord.ui.Select[Any]], template=GROUP_PICK_ID):
    """The menu under Find a group; picking one starts the join as `/group join` does."""

    def __init__(self) -> None:
        super().__init__(group_pick())

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> GroupPick:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async def work() -> None:
            values = self.item.values
            group_id = int(values[0]) if values and values[0].isdigit() else 0
            group = await interaction.client.services.groups.prepare_join_id(
                interaction.guild_id, interaction.user.id, group_id
            )
            await send_join_prompt(interaction, group)

        await guarded(interaction, "start-here group menu", work)


async def handle_search_submit(interaction: discord.Interaction[Any]) -> bool:
    """Answer the Resources search box, whether or not this process opened it (discord.py
    drops modals it no longer holds, e.g. after a restart). Approved resources only, shown
    as `/resource search` shows them. True when it was one."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return False
    data: Any = interaction.data or {}
    if data.get("custom_id") != SEARCH_MODAL_ID:
        return False

    async def work() -> None:
        query = " ".join(submitted_value(data, "query").split())[:SEARCH_MAX]
        found = await interaction.client.services.resources.search(_guild_id(interaction), query)
        await interaction.response.send_message(
            embed=resource_search_embed(found, defuse(query)),
            ephemeral=True,
            allowed_mentions=NONE,
        )

    await guarded(interaction, "start-here resource search", work)
    return True


WELCOME_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (PanelButton, GroupPick)
