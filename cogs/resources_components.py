"""The resource library's review components: Approve / Reject under a suggestion, and the
reject-reason modal's submit. Drawn by familybot/ui/resources.py; answered here through
the tree's wrapper. Registered by the resources cog (custom_id formats never change)."""

from __future__ import annotations

import re
from typing import Any

import discord

from familybot.checks import actor_of
from familybot.models.audit import AuditTarget, TargetKind
from familybot.tree import Audited, Reply, guarded, submitted_value
from familybot.ui.resources import (
    REJECT_MODAL_RE,
    REVIEW_TEMPLATE,
    RejectModal,
    decision_text,
    review_button,
)


class ReviewButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=REVIEW_TEMPLATE):
    """Approve / Reject under a pending suggestion; Reject opens the reason modal."""

    def __init__(self, resource_id: int, action: str) -> None:
        super().__init__(review_button(resource_id, action))
        self.resource_id = resource_id
        self.approve = action == "approve"

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ReviewButton:
        return cls(int(match["id"]), match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async def work() -> Reply | None:
            if not self.approve:
                # Reject only opens the reason form; its submit is what gets recorded.
                await interaction.response.send_modal(RejectModal(self.resource_id))
                return None
            assert interaction.guild_id is not None
            decision = await interaction.client.services.resources.approve(
                interaction.guild_id, self.resource_id, actor_of(interaction)
            )

            async def reply() -> None:
                await interaction.response.edit_message(
                    content=decision_text(decision, interaction.user.id), embed=None, view=None
                )

            return reply

        action = "button.resource-approve" if self.approve else "button.resource-reject"
        audit = Audited(action, AuditTarget(self.resource_id, TargetKind.RESOURCE))
        await guarded(
            interaction, "resource review button", work, audit=audit, facilitators_only=True
        )


async def handle_reject_submit(interaction: discord.Interaction[Any]) -> bool:
    """Answer a reject-reason modal submit, whether or not this process opened the modal
    (read from the raw submit; RejectModal.on_submit stays the no-op default so nothing
    answers twice). True when it was one."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return False
    data: Any = interaction.data or {}
    match = REJECT_MODAL_RE.match(str(data.get("custom_id", "")))
    if match is None:
        return False
    resource_id = int(match["id"])

    async def work() -> Reply:
        assert interaction.guild_id is not None
        decision = await interaction.client.services.resources.reject(
            interaction.guild_id,
            resource_id,
            actor_of(interaction),
            submitted_value(data, "reason"),
        )

        async def reply() -> None:
            text = decision_text(decision, interaction.user.id)
            if interaction.message is not None:
                await interaction.response.edit_message(content=text, embed=None, view=None)
            else:
                await interaction.response.send_message(text, ephemeral=True)

        return reply

    # Ids only in the audit: never the reason text.
    audit = Audited("modal.resource-reject", AuditTarget(resource_id, TargetKind.RESOURCE))
    await guarded(interaction, "resource reject modal", work, audit=audit, facilitators_only=True)
    return True


RESOURCE_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ReviewButton,)
