"""/setup: server configuration for admins."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands
from discord.ext import commands

from cogs.autocomplete import timezones
from cogs.setup_safety import SetupSafety
from familybot import i18n
from familybot.bot import FamilyBot
from familybot.checks import is_admin
from familybot.errors import UserFacingError
from familybot.i18n import _, ngettext, pgettext
from familybot.models import WelcomePanel
from familybot.models.crisis import REGION_NAMES
from familybot.services.audit.service import AUDIT_SHOW_DEFAULT, AUDIT_SHOW_MAX
from familybot.services.setup.diagnostics import PANEL_CHANNEL, label
from familybot.ui.audit import audit_embed
from familybot.ui.health import guild_facts, health_fields
from familybot.ui.text import channel_mention, role_mention
from familybot.ui.welcome import (
    PANEL_NOT_POSTED,
    WELCOME_MOVED,
    WELCOME_MOVED_OLD_KEPT,
    WELCOME_POSTED,
    WELCOME_REPOSTED,
    WELCOME_UPDATED,
    panel_embed,
    panel_view,
    welcome_missing_permissions,
    welcome_reply,
)

LANGUAGES = [
    app_commands.Choice(name="English", value="en"),
    app_commands.Choice(name="Español", value="es"),
]


async def _place_panel(
    guild: discord.Guild, channel: discord.TextChannel, old: WelcomePanel | None
) -> tuple[str, int]:
    """Edit the panel in place if it is still there, else post it: (reply template, id)."""
    embed, view = panel_embed(), panel_view()
    template = WELCOME_POSTED
    if old is not None and old.channel_id == channel.id:
        try:
            await channel.get_partial_message(old.message_id).edit(
                content=None, embed=embed, view=view
            )
            return WELCOME_UPDATED, old.message_id
        except discord.NotFound:
            template = WELCOME_REPOSTED
    elif old is not None:
        template = WELCOME_REPOSTED  # its channel is gone, or so is the message
        before = guild.get_channel(old.channel_id)
        if isinstance(before, discord.TextChannel):
            try:
                await before.get_partial_message(old.message_id).delete()
                template = WELCOME_MOVED
            except discord.NotFound:
                pass
            except discord.HTTPException:
                template = WELCOME_MOVED_OLD_KEPT
    message = await channel.send(embed=embed, view=view)
    return template, message.id


async def _panel_found(guild: discord.Guild, panel: WelcomePanel | None) -> bool | None:
    """Whether the stored panel message still exists: None when unknown (no panel, no
    channel, or Discord wouldn't say)."""
    if panel is None:
        return None
    channel = guild.get_channel(panel.channel_id)
    if not isinstance(channel, discord.TextChannel):
        return None
    try:
        await channel.fetch_message(panel.message_id)
    except discord.NotFound:
        return False
    except discord.HTTPException:
        return None
    return True


def _is_private(channel: discord.abc.GuildChannel) -> bool:
    everyone = channel.guild.default_role
    return not channel.permissions_for(everyone).view_channel


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Setup(
    commands.GroupCog,
    SetupSafety,
    group_name="setup",
    group_description="Set FamilyBot up for this server (admins)",
):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot
        # One /setup welcome at a time per server: two at once would both post a panel.
        self._welcome_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    @app_commands.command(
        name="facilitator-role", description="Choose the role that marks facilitators"
    )
    @app_commands.describe(role="Members with this role can run groups, sessions and moderation")
    @is_admin()
    async def facilitator_role(
        self, interaction: discord.Interaction[FamilyBot], role: discord.Role
    ) -> None:
        assert interaction.guild_id is not None
        if role.is_default():
            await interaction.response.send_message(
                _("That's the @everyone role; please pick a role only facilitators have."),
                ephemeral=True,
            )
            return
        await self.bot.services.setup.set_facilitator_role(interaction.guild_id, role.id)
        await interaction.response.send_message(
            _("Done. Members with {role} are now facilitators.").format(role=role_mention(role.id)),
            ephemeral=True,
        )

    async def _set_private_channel(
        self,
        interaction: discord.Interaction[FamilyBot],
        channel: discord.TextChannel,
        save: Callable[[int, int], Awaitable[object]],
        *,
        refusal: str,
        done: str,
    ) -> None:
        """Store a facilitators-only channel; refuse one that everyone can see."""
        assert interaction.guild_id is not None
        if not _is_private(channel):  # raised, so the audit log records a refusal
            raise UserFacingError(
                _("That channel is visible to everyone. {refusal}").format(refusal=refusal)
            )
        await save(interaction.guild_id, channel.id)
        await interaction.response.send_message(
            done.format(channel=channel_mention(channel.id)), ephemeral=True
        )

    @app_commands.command(
        name="modlog", description="Choose the channel where moderation actions are logged"
    )
    @app_commands.describe(channel="A private channel for facilitators")
    @is_admin()
    async def modlog(
        self, interaction: discord.Interaction[FamilyBot], channel: discord.TextChannel
    ) -> None:
        await self._set_private_channel(
            interaction,
            channel,
            self.bot.services.setup.set_modlog_channel,
            refusal=_(
                "The mod log should be private to facilitators; please pick a private channel."
            ),
            done=_("Done. Moderation actions will be logged in {channel}."),
        )

    @app_commands.command(
        name="alerts", description="Choose the private channel for join requests and safety alerts"
    )
    @app_commands.describe(channel="A private channel that only facilitators can see")
    @is_admin()
    async def alerts(
        self, interaction: discord.Interaction[FamilyBot], channel: discord.TextChannel
    ) -> None:
        await self._set_private_channel(
            interaction,
            channel,
            self.bot.services.setup.set_alerts_channel,
            refusal=_(
                "Alerts name the people involved, so they need a private channel only "
                "facilitators can see; please pick one."
            ),
            done=_("Done. Join requests and alerts will go to {channel}."),
        )

    @app_commands.command(
        name="timezone", description="Set the server's default time zone for sessions"
    )
    @app_commands.describe(tz="An IANA time zone, e.g. America/New_York")
    @app_commands.autocomplete(tz=timezones)
    @is_admin()
    async def timezone(self, interaction: discord.Interaction[FamilyBot], tz: str) -> None:
        assert interaction.guild_id is not None
        saved = await self.bot.services.setup.set_timezone(interaction.guild_id, tz)
        await interaction.response.send_message(
            _("Done. New sessions will use **{tz}** unless a facilitator picks another.").format(
                tz=saved.timezone
            ),
            ephemeral=True,
        )

    @app_commands.command(
        name="show", description="Show this server's FamilyBot settings and anything missing"
    )
    @is_admin()
    async def show(self, interaction: discord.Interaction[FamilyBot]) -> None:
        assert interaction.guild is not None
        guild = interaction.guild
        settings = await self.bot.services.setup.get(guild.id)
        not_set = _("not set")
        tz = settings.timezone or _("{tz} (the bot's default)").format(
            tz=self.bot.settings.default_timezone
        )
        region = REGION_NAMES.get(settings.crisis_region or "US", "United States")
        lines = [
            _("**Facilitator role:** {value}").format(
                value=role_mention(settings.facilitator_role_id)
                if settings.facilitator_role_id
                else not_set
            ),
            _("**Mod log:** {value}").format(
                value=channel_mention(settings.modlog_channel_id)
                if settings.modlog_channel_id
                else not_set
            ),
            _("**Alerts:** {value}").format(
                value=channel_mention(settings.alerts_channel_id)
                if settings.alerts_channel_id
                else not_set
            ),
            _("**Time zone:** {value}").format(value=tz),
            (
                _("**Crisis lines:** {value}").format(value=region)
                if settings.crisis_region
                else _("**Crisis lines:** {value} (the default)").format(value=region)
            ),
            (
                _("**Message content:** on (MESSAGE_CONTENT_INTENT)")
                if self.bot.settings.message_content_intent
                else _("**Message content:** off (MESSAGE_CONTENT_INTENT)")
            ),
        ]
        panel = await self.bot.services.welcome.panel(guild.id)
        lines.append(
            _("**Start-here panel:** {value}").format(
                value=channel_mention(panel.channel_id) if panel else PANEL_NOT_POSTED
            )
        )
        facts = guild_facts(guild, self.bot, self.bot.settings.message_content_intent)
        problems = await self.bot.services.diagnostics.report(
            guild.id, facts, panel, await _panel_found(guild, panel)
        )
        embed = discord.Embed(
            title=pgettext("embed-title", "FamilyBot settings"),
            description="\n".join(lines),
            colour=0x5B8DB8,
        )
        for name, value in health_fields(problems):
            embed.add_field(name=name, value=value, inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(
        name="welcome", description="Post or update the start-here panel with buttons for families"
    )
    @app_commands.describe(channel="Where newcomers look first, e.g. #start-here")
    @is_admin()
    async def welcome(
        self, interaction: discord.Interaction[FamilyBot], channel: discord.TextChannel
    ) -> None:
        """One panel per server: edited in place when it still exists, never duplicated."""
        assert interaction.guild is not None
        guild = interaction.guild
        allowed = channel.permissions_for(guild.me)
        missing = [label(p) for p in PANEL_CHANNEL if not getattr(allowed, p)]
        if missing:  # raised, so the audit log records a refusal
            raise UserFacingError(welcome_missing_permissions(channel.id, missing))
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._welcome_locks[guild.id]:
            old = await self.bot.services.welcome.panel(guild.id)
            # A public channel's panel: in the server's language, not the admin's.
            with i18n.using(i18n.for_guild(guild.id)):
                template, message_id = await _place_panel(guild, channel, old)
            await self.bot.services.welcome.panel_posted(guild.id, channel.id, message_id)
        await interaction.followup.send(
            welcome_reply(template, channel.id, old.channel_id if old else None), ephemeral=True
        )

    @app_commands.command(
        name="audit", description="Show recent facilitator and admin actions (the audit log)"
    )
    @app_commands.describe(
        count=f"How many entries to show (default {AUDIT_SHOW_DEFAULT})",
        member="Only what this person did",
    )
    @is_admin()
    async def audit(
        self,
        interaction: discord.Interaction[FamilyBot],
        count: app_commands.Range[int, 1, AUDIT_SHOW_MAX] = AUDIT_SHOW_DEFAULT,
        member: discord.User | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        actor_id = member.id if member else None
        entries = await self.bot.services.audit.recent(interaction.guild_id, count, actor_id)
        await interaction.response.send_message(
            embed=audit_embed(entries, actor_id=actor_id), ephemeral=True
        )

    @app_commands.command(
        name="language", description="The language of reminders and notices in this server"
    )
    @app_commands.describe(language="For messages to channels; each person can pick their own")
    @app_commands.choices(language=LANGUAGES)
    @is_admin()
    async def language(
        self, interaction: discord.Interaction[FamilyBot], language: app_commands.Choice[str]
    ) -> None:
        assert interaction.guild_id is not None
        saved = await self.bot.services.language.set_guild_language(
            interaction.guild_id, language.value
        )
        text = _(
            "Done. Reminders and notices in this server's channels will now be in "
            "{language}. Each person still gets their own replies in their Discord "
            "language, or in the one they pick with `/my language`."
        ).format(language=i18n.language_name(saved))
        await interaction.response.send_message(
            text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @app_commands.command(
        name="events", description="Show each group's next session in Discord's Events panel"
    )
    @app_commands.describe(state="on: mirror sessions as server events; off: remove them")
    @app_commands.choices(
        state=[
            app_commands.Choice(name="on", value="on"),
            app_commands.Choice(name="off", value="off"),
        ]
    )
    @is_admin()
    async def events(
        self, interaction: discord.Interaction[FamilyBot], state: app_commands.Choice[str]
    ) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        on = state.value == "on"
        report = await self.bot.services.events.set_enabled(interaction.guild_id, on)
        if on:
            text = ngettext(
                "Done. The next session of each group that has one is now in the Events panel "
                "({count} group), and I'll keep it up to date when sessions are cancelled or "
                "moved. Everyone on the server can see that panel: it shows that a group meets "
                "and when, never who is in it.",
                "Done. The next session of each group that has one is now in the Events panel "
                "({count} groups), and I'll keep it up to date when sessions are cancelled or "
                "moved. Everyone on the server can see that panel: it shows that a group meets "
                "and when, never who is in it.",
                report.shown,
            ).format(count=report.shown)
        else:
            text = ngettext(
                "Done. I removed the sessions I had added to the Events panel ({count} event).",
                "Done. I removed the sessions I had added to the Events panel ({count} events).",
                report.removed,
            ).format(count=report.removed)
        if report.failed:
            text += "\n" + ngettext(
                "{count} group couldn't be updated: I may be missing the **Manage Events** "
                "permission. I'll keep trying.",
                "{count} groups couldn't be updated: I may be missing the **Manage Events** "
                "permission. I'll keep trying.",
                report.failed,
            ).format(count=report.failed)
        if report.skipped:
            text += "\n" + ngettext(
                "{count} group couldn't be added: the server has reached Discord's limit of "
                "100 events.",
                "{count} groups couldn't be added: the server has reached Discord's limit of "
                "100 events.",
                report.skipped,
            ).format(count=report.skipped)
        await interaction.followup.send(text, ephemeral=True)


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(Setup(bot))
