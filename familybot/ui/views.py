"""Persistent buttons. State lives in the custom_id, so they work after a restart."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from familybot.checks import refuse_unless_facilitator
from familybot.db.repositories.audit import AuditResult, AuditTarget, TargetKind
from familybot.models import Group, JoinMode
from familybot.services.groups import GroupListPage, JoinOutcome, JoinResult
from familybot.tree import report_error
from familybot.ui.audit import record_action, result_for
from familybot.ui.embeds import group_list_embed, guidelines_embed
from familybot.ui.text import clip, defuse, user_mention

log = logging.getLogger(__name__)


def join_result_text(outcome: JoinOutcome) -> str:
    name = clip(defuse(outcome.group.name), 100)
    if outcome.result is JoinResult.SEATED:
        channel = (
            f" Your group's private channel is <#{outcome.group.channel_id}>."
            if outcome.group.channel_id
            else ""
        )
        return f"Thank you. You're now a member of **{name}**. Welcome! 💙{channel}"
    if outcome.result is JoinResult.WAITLISTED:
        return (
            f"Thank you. **{name}** is full right now, so you're on the waitlist: number "
            f"{outcome.position} in line. I'll message you as soon as a seat opens."
        )
    if outcome.reviewed or outcome.group.join_mode is JoinMode.OPEN:
        return (
            f"Thank you. Your request to join **{name}** is with the facilitators now. "
            "I'll message you when they've looked at it."
        )
    return (
        f"Thank you. **{name}** asks facilitators to welcome each new member, so your request "
        "is with them now. I'll message you when they've looked at it."
    )


class ConsentButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"fb:consent:(?P<group>\d+):(?P<version>\d+)",
):
    """“I agree” under a group's guidelines; consent is recorded only when pressed."""

    def __init__(self, group_id: int, version: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="I agree",
                style=discord.ButtonStyle.success,
                custom_id=f"fb:consent:{group_id}:{version}",
            )
        )
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
        try:
            outcome = await interaction.client.services.groups.consent_and_join(
                self.group_id, interaction.user.id, self.version, guild_id=interaction.guild_id
            )
        except Exception as error:
            await report_error(interaction, error, "consent button")
            return
        await interaction.response.edit_message(
            content=join_result_text(outcome), embed=None, view=None
        )


class ApprovalButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"fb:approval:(?P<group>\d+):(?P<user>\d+):(?P<action>approve|deny)",
):
    """Approve / Deny on a join request in the facilitators' alerts channel."""

    def __init__(self, group_id: int, user_id: int, action: str) -> None:
        approve = action == "approve"
        super().__init__(
            discord.ui.Button(
                label="Approve" if approve else "Deny",
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.secondary,
                custom_id=f"fb:approval:{group_id}:{user_id}:{action}",
            )
        )
        self.group_id = group_id
        self.user_id = user_id
        self.approve = approve

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
        action = "button.join-approve" if self.approve else "button.join-deny"
        target = AuditTarget(self.user_id, TargetKind.USER)
        try:
            if await refuse_unless_facilitator(interaction):
                await record_action(interaction, action, target, AuditResult.REFUSED)
                return
            decision = await interaction.client.services.groups.decide(
                self.group_id, self.user_id, self.approve, guild_id=interaction.guild_id
            )
        except Exception as error:
            await report_error(interaction, error, "approval button")
            await record_action(interaction, action, target, result_for(error))
            return
        name = clip(defuse(decision.group.name), 100)
        who = user_mention(self.user_id)
        actor = user_mention(interaction.user.id)
        if decision.already_decided:
            text = f"This request from {who} for **{name}** was already handled."
        elif decision.outcome is None:
            text = f"Request from {who} to join **{name}**: declined by {actor}. They were told kindly by DM."
        elif decision.outcome.result is JoinResult.SEATED:
            text = (
                f"Request from {who} to join **{name}**: approved by {actor}. They're now a member."
            )
        else:
            text = (
                f"Request from {who} to join **{name}**: approved by {actor}. The group is full, "
                f"so they're number {decision.outcome.position} on the waitlist."
            )
        try:
            await interaction.response.edit_message(content=text, view=None)
        finally:  # the decision is made even if Discord loses the edit
            await record_action(interaction, action, target, AuditResult.OK)


class GroupListButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"fb:grouplist:(?P<way>prev|next):(?P<page>\d+)",
):
    """Previous / Next under a page of /group list; the page to show is in the custom_id,
    the server is the one it is pressed in (nobody sees another server's groups)."""

    def __init__(self, way: str, page: int, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Previous" if way == "prev" else "Next",
                style=discord.ButtonStyle.secondary,
                custom_id=f"fb:grouplist:{way}:{page}",
                disabled=disabled,
            )
        )
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
        if interaction.guild_id is None:
            return
        try:
            page = await interaction.client.services.groups.list_page(
                interaction.guild_id, self.page
            )
        except Exception as error:
            await report_error(interaction, error, "group list button")
            return
        await interaction.response.edit_message(
            embed=group_list_embed(page.summaries, paged=True), view=group_list_view(page)
        )


def group_list_view(page: GroupListPage) -> discord.ui.View | None:
    """Previous, "Page n of m", Next under a page of /group list; None for a single page."""
    if page.pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    first, last = page.page == 0, page.page == page.pages - 1
    view.add_item(GroupListButton("prev", max(0, page.page - 1), disabled=first))
    view.add_item(
        discord.ui.Button(
            label=f"Page {page.page + 1} of {page.pages}",
            style=discord.ButtonStyle.secondary,
            custom_id="fb:grouplist:at",
            disabled=True,
        )
    )
    view.add_item(GroupListButton("next", min(page.pages - 1, page.page + 1), disabled=last))
    return view


def consent_view(group_id: int, version: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConsentButton(group_id, version))
    return view


async def send_join_prompt(interaction: discord.Interaction[Any], group: Group) -> None:
    """The group's guidelines with “I agree”, privately: `/group join` and the start-here
    panel's group menu both start a join here (after GroupsService.prepare_join)."""
    await interaction.response.send_message(
        embed=guidelines_embed(group.name, group.guidelines, group.guidelines_version),
        view=consent_view(group.id, group.guidelines_version),
        ephemeral=True,
    )


def approval_view(group_id: int, user_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ApprovalButton(group_id, user_id, "approve"))
    view.add_item(ApprovalButton(group_id, user_id, "deny"))
    return view


PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ConsentButton,
    ApprovalButton,
    GroupListButton,
)
