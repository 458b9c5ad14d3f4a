"""/resource: the vetted resource library."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs.resources_components import RESOURCE_ITEMS, handle_reject_submit
from familybot import i18n
from familybot.bot import FamilyBot
from familybot.checks import actor_of, is_admin, is_facilitator
from familybot.errors import UserFacingError
from familybot.i18n import _
from familybot.ui.resources import (
    LIST_MAX,
    fit,
    resource_list_embed,
    resource_search_embed,
    review_embed,
    review_view,
)
from familybot.ui.text import channel_mention, ts

NONE = discord.AllowedMentions.none()


@app_commands.guild_only()
class Resources(
    commands.GroupCog,
    group_name="resource",
    group_description="Find, share and vet helpful resources",
):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        # Its persistent buttons and menus: answered by custom_id, also after a restart.
        self.bot.add_dynamic_items(*RESOURCE_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*RESOURCE_ITEMS)

    async def resource_autocomplete(
        self, interaction: discord.Interaction[FamilyBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        found = await self.bot.services.resources.autocomplete(interaction.guild_id, current)
        return [app_commands.Choice(name=fit(r.title, 100), value=str(r.id)) for r in found]

    async def category_autocomplete(
        self, interaction: discord.Interaction[FamilyBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        names = await self.bot.services.resources.categories(interaction.guild_id, current)
        return [app_commands.Choice(name=n[:100], value=n[:100]) for n in names]

    async def due_autocomplete(
        self, interaction: discord.Interaction[FamilyBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        found = await self.bot.services.resources.due_for_review(interaction.guild_id, current)
        return [app_commands.Choice(name=fit(r.title, 100), value=str(r.id)) for r in found]

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[FamilyBot]) -> None:
        await handle_reject_submit(interaction)

    # --- anyone ---------------------------------------------------------------------------
    @app_commands.command(name="suggest", description="Suggest a helpful resource for review")
    @app_commands.describe(
        title="What it is called",
        url="Its web address (https://…)",
        category="A short category, e.g. 'Crisis support' or 'Reading'",
        description="Why it helps families, in a sentence or two",
        region="Where it applies, if anywhere in particular",
        language="Its language, if not English",
        audience="Who it is for, e.g. 'parents of teens'",
    )
    @app_commands.autocomplete(category=category_autocomplete)
    async def suggest(
        self,
        interaction: discord.Interaction[FamilyBot],
        title: app_commands.Range[str, 1, 150],
        url: app_commands.Range[str, 1, 512],
        category: app_commands.Range[str, 1, 50],
        description: app_commands.Range[str, 1, 1000],
        region: app_commands.Range[str, 1, 60] | None = None,
        language: app_commands.Range[str, 1, 40] | None = None,
        audience: app_commands.Range[str, 1, 80] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.bot.services.resources.suggest(
            interaction.guild_id,
            interaction.user.id,
            {
                "title": title,
                "url": url,
                "category": category,
                "description": description,
                "region": region,
                "language": language,
                "audience": audience,
            },
        )
        await interaction.followup.send(
            _(
                "Thank you for suggesting **{title}**. A facilitator will look at it, "
                "and I'll let you know by DM when they have."
            ).format(title=fit(title, 150)),
            ephemeral=True,
        )

    @app_commands.command(name="search", description="Search the vetted resource library")
    @app_commands.describe(query="Words to look for", category="Only this category")
    @app_commands.autocomplete(category=category_autocomplete)
    async def search(
        self,
        interaction: discord.Interaction[FamilyBot],
        query: app_commands.Range[str, 1, 100],
        category: app_commands.Range[str, 1, 50] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        found = await self.bot.services.resources.search(interaction.guild_id, query, category)
        await interaction.response.send_message(
            embed=resource_search_embed(found, query), ephemeral=True
        )

    @app_commands.command(name="list", description="See the vetted resources")
    @app_commands.describe(category="Only this category")
    @app_commands.autocomplete(category=category_autocomplete)
    async def list_resources(
        self,
        interaction: discord.Interaction[FamilyBot],
        category: app_commands.Range[str, 1, 50] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        found = await self.bot.services.resources.list_resources(
            interaction.guild_id, category, limit=LIST_MAX
        )
        heading = (
            i18n.pgettext("embed-title", "Resources: {category}").format(category=category)
            if category
            else i18n.pgettext("embed-title", "Resource library")
        )
        embed = resource_list_embed(
            found.items,
            heading,
            _("There are no resources here yet. You can suggest one!"),
            total=found.total,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="share", description="Post a vetted resource's card in a channel")
    @app_commands.describe(
        resource="The resource to share", channel="Where to post it (this channel if empty)"
    )
    @app_commands.autocomplete(resource=resource_autocomplete)
    async def share(
        self,
        interaction: discord.Interaction[FamilyBot],
        resource: app_commands.Range[str, 1, 150],
        channel: discord.TextChannel | None = None,
    ) -> None:
        assert interaction.guild_id is not None and interaction.channel_id is not None
        if channel is None:
            allowed = interaction.permissions.send_messages
            target = interaction.channel_id
        else:
            member = interaction.user
            perms = channel.permissions_for(member) if isinstance(member, discord.Member) else None
            allowed = bool(perms and perms.view_channel and perms.send_messages)
            target = channel.id
        if not allowed:
            raise UserFacingError(
                _(
                    "You can't post in that channel yourself, so I won't post there for you. "
                    "Please pick a channel you can write in."
                )
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        # The card goes to a channel: in the server's language, not the sharer's.
        with i18n.using(i18n.for_guild(interaction.guild_id)):
            shared = await self.bot.services.resources.share(interaction.guild_id, resource, target)
        await interaction.followup.send(
            _("Shared **{title}** in {channel}.").format(
                title=fit(shared.title, 150), channel=channel_mention(target)
            ),
            ephemeral=True,
            allowed_mentions=NONE,
        )

    # --- facilitators ---------------------------------------------------------------------
    @app_commands.command(name="review", description="Review the next suggested resource")
    @is_facilitator()
    async def review(self, interaction: discord.Interaction[FamilyBot]) -> None:
        assert interaction.guild_id is not None
        item, pending = await self.bot.services.resources.next_pending(
            interaction.guild_id, actor_of(interaction)
        )
        if item is None:
            await interaction.response.send_message(
                _("Nothing is waiting for review. Thank you for keeping the library tidy!"),
                ephemeral=True,
            )
            return
        await interaction.response.send_message(
            embed=review_embed(item, pending), view=review_view(item.id), ephemeral=True
        )

    @app_commands.command(name="add", description="Add a resource you have vetted yourself")
    @app_commands.describe(
        title="What it is called",
        url="Its web address (https://…)",
        category="A short category, e.g. 'Crisis support' or 'Reading'",
        description="Why it helps families, in a sentence or two",
        region="Where it applies, if anywhere in particular",
        language="Its language, if not English",
        audience="Who it is for, e.g. 'parents of teens'",
    )
    @app_commands.autocomplete(category=category_autocomplete)
    @is_facilitator()
    async def add(
        self,
        interaction: discord.Interaction[FamilyBot],
        title: app_commands.Range[str, 1, 150],
        url: app_commands.Range[str, 1, 512],
        category: app_commands.Range[str, 1, 50],
        description: app_commands.Range[str, 1, 1000],
        region: app_commands.Range[str, 1, 60] | None = None,
        language: app_commands.Range[str, 1, 40] | None = None,
        audience: app_commands.Range[str, 1, 80] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        added = await self.bot.services.resources.add(
            interaction.guild_id,
            actor_of(interaction),
            {
                "title": title,
                "url": url,
                "category": category,
                "description": description,
                "region": region,
                "language": language,
                "audience": audience,
            },
        )
        await interaction.response.send_message(
            _("Added **{title}** to the library. It's due for review again in 12 months.").format(
                title=fit(added.title, 150)
            ),
            ephemeral=True,
        )

    @app_commands.command(name="retire", description="Take a resource out of the library")
    @app_commands.describe(resource="The resource to retire", reason="Why (kept for the record)")
    @app_commands.autocomplete(resource=resource_autocomplete)
    @is_facilitator()
    async def retire(
        self,
        interaction: discord.Interaction[FamilyBot],
        resource: app_commands.Range[str, 1, 150],
        reason: app_commands.Range[str, 1, 500],
    ) -> None:
        assert interaction.guild_id is not None
        retired = await self.bot.services.resources.retire(
            interaction.guild_id, actor_of(interaction), resource, reason
        )
        await interaction.response.send_message(
            _("Retired **{title}**. Families won't see it any more.").format(
                title=fit(retired.title, 150)
            ),
            ephemeral=True,
        )

    @app_commands.command(
        name="reviewed", description="Mark a resource due for review as checked again"
    )
    @app_commands.describe(
        resource="A resource due for review (the list shows them)",
        note="What you checked or changed, kept with the resource (optional)",
    )
    @app_commands.autocomplete(resource=due_autocomplete)
    @is_facilitator()
    async def reviewed(
        self,
        interaction: discord.Interaction[FamilyBot],
        resource: app_commands.Range[str, 1, 150],
        note: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        checked = await self.bot.services.resources.mark_reviewed(
            interaction.guild_id, actor_of(interaction), resource, note
        )
        text = _(
            "Thank you: **{title}** is marked as checked by you today, and it's off the "
            "review list."
        ).format(title=fit(checked.title, 150))
        if checked.review_due_at:
            text += " " + _("Its next review is due {when}.").format(
                when=ts(checked.review_due_at, "D")
            )
        await interaction.response.send_message(
            text,
            ephemeral=True,
            allowed_mentions=NONE,
        )

    @app_commands.command(name="allow-http", description="Allow plain http:// links (admins)")
    @app_commands.describe(enabled="Allow http:// links as well as https://")
    @is_admin()
    async def allow_http(self, interaction: discord.Interaction[FamilyBot], enabled: bool) -> None:
        assert interaction.guild_id is not None
        await self.bot.services.resources.set_allow_http(
            interaction.guild_id, actor_of(interaction), enabled
        )
        text = (
            _("Plain http:// links can now be suggested. https:// is still safer for families.")
            if enabled
            else _("Only https:// links can be suggested now.")
        )
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(Resources(bot))
