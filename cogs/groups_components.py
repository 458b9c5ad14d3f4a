"""Groups' persistent buttons: consent to join, approve/deny a request, list pages.

Drawn by familybot/ui/views.py; answered here (parse the custom_id -> one service call ->
render), through the tree's wrapper. Registered by the groups cog; the custom_id formats
never change, so buttons posted long ago still work."""

from __future__ import annotations

import re
from typing import Any

import discord

from familybot import i18n
from familybot.models import Group
from familybot.models.audit import AuditTarget, TargetKind
from familybot.tree import Audited, Reply, guarded
from familybot.ui.embeds import group_list_embed
from familybot.ui.views import (
    APPROVAL_TEMPLATE,
    CONSENT_TEMPLATE,
    GROUP_LIST_TEMPLATE,
    approval_button,
    consent_button,
    decision_text,
    group_list_button,
    group_list_view,
    join_prompt,
    join_result_text,
)


class ConsentButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CONSENT_TEMPLATE):
    """“I agree” under a group's guidelines; consent is recorded only when pressed."""

    def __init__(self, group_id: int, version: int) -> None:
        super().__init__(consent_button(group_id, version))
        self.group_id = group_id
        self.version = version

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ConsentButton:
        return cls(int(match["group"]), int(match["version"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async def work() -> Reply:
            outcome = await interaction.client.services.groups.consent_and_join(
                self.group_id, interaction.user.id, self.version, guild_id=interaction.guild_id
            )

            async def reply() -> None:
                await interaction.response.edit_message(
                    content=join_result_text(outcome), embed=None, view=None
                )

            return reply

        await guarded(interaction, "consent button", work)


class ApprovalButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=APPROVAL_TEMPLATE):
    """Approve / Deny on a join request in the facilitators' alerts channel."""

    def __init__(self, group_id: int, user_id: int, action: str) -> None:
        super().__init__(approval_button(group_id, user_id, action))
        self.group_id = group_id
        self.user_id = user_id
        self.approve = action == "approve"

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ApprovalButton:
        return cls(int(match["group"]), int(match["user"]), match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async def work() -> Reply:
            decision = await interaction.client.services.groups.decide(
                self.group_id, self.user_id, self.approve, guild_id=interaction.guild_id
            )

            async def reply() -> None:
                # The request sits in the alerts channel: it speaks the server's language.
                with i18n.using(i18n.for_guild(interaction.guild_id)):
                    text = decision_text(decision, self.user_id, interaction.user.id)
                await interaction.response.edit_message(content=text, view=None)

            return reply

        action = "button.join-approve" if self.approve else "button.join-deny"
        audit = Audited(action, AuditTarget(self.user_id, TargetKind.USER))
        await guarded(interaction, "approval button", work, audit=audit, facilitators_only=True)


class GroupListButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=GROUP_LIST_TEMPLATE):
    """Previous / Next under a page of /group list, for the server it is pressed in."""

    def __init__(self, way: str, page: int) -> None:
        super().__init__(group_list_button(way, page))
        self.page = page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> GroupListButton:
        return cls(match["way"], int(match["page"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        guild_id = interaction.guild_id
        if guild_id is None:
            return

        async def work() -> Reply:
            page = await interaction.client.services.groups.list_page(guild_id, self.page)

            async def reply() -> None:
                await interaction.response.edit_message(
                    embed=group_list_embed(page.summaries, paged=True), view=group_list_view(page)
                )

            return reply

        await guarded(interaction, "group list button", work)


async def send_join_prompt(interaction: discord.Interaction[Any], group: Group) -> None:
    """The group's guidelines with “I agree”, privately: `/group join` and the start-here
    panel's group menu both start a join here (after GroupsService.prepare_join)."""
    embed, view = join_prompt(group)
    await interaction.response.send_message(embed=embed, view=view, ephemeral=True)


GROUP_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ConsentButton,
    ApprovalButton,
    GroupListButton,
)
