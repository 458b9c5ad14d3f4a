"""/mod: firm, logged moderation for facilitators. Every action is a numbered case."""

from __future__ import annotations

from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands

from familybot.bot import FamilyBot
from familybot.checks import is_facilitator
from familybot.errors import UserFacingError
from familybot.i18n import _
from familybot.models.audit import AuditResult
from familybot.services.moderation.durations import parse_duration
from familybot.services.moderation.rules import (
    MAX_SLOWMODE_SECONDS,
    PURGE_MAX,
    REASON_MAX,
    Action,
    BotSelf,
    Person,
)
from familybot.services.moderation.service import ModRequest
from familybot.tree_audit import AUDIT_RESULT
from familybot.ui.moderation import case_embed, case_reply, history_embed
from familybot.ui.text import clip, defuse

DELETE_WINDOWS = [
    app_commands.Choice(name="Don't remove any messages", value=0),
    app_commands.Choice(name="Their messages from the last hour", value=3600),
    app_commands.Choice(name="Their messages from the last day", value=86400),
    app_commands.Choice(name="Their messages from the last 7 days", value=604800),
]
Reason = app_commands.Range[str, 1, REASON_MAX]
ChannelArg = discord.TextChannel | None


def person(user: discord.Member | discord.User, guild: discord.Guild) -> Person:
    """What the rules need to know about someone, from the slash option's resolved data."""
    if not isinstance(user, discord.Member):
        return Person(user_id=user.id, in_guild=False)
    return Person(
        user_id=user.id,
        top_position=user.top_role.position,
        is_owner=user.id == guild.owner_id,
        # Admins are members with Manage Server (PRODUCT.md), or Administrator.
        is_admin=user.guild_permissions.manage_guild or user.guild_permissions.administrator,
    )


def bot_self(guild: discord.Guild, channel: discord.abc.GuildChannel | None = None) -> BotSelf:
    me = guild.me
    permissions = channel.permissions_for(me) if channel is not None else me.guild_permissions
    return BotSelf(user_id=me.id, top_position=me.top_role.position, permissions=permissions.value)


def length_of(text: str | None) -> timedelta | None:
    if text is None or not text.strip():
        return None
    try:
        return parse_duration(text)
    except ValueError as error:
        raise UserFacingError(str(error)) from error


@app_commands.guild_only()
@app_commands.default_permissions(moderate_members=True)
class Moderation(
    commands.GroupCog,
    group_name="mod",
    group_description="Moderation for facilitators: every action is a logged case",
):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot

    def _request(
        self, interaction: discord.Interaction[FamilyBot], action: Action, **fields: object
    ) -> ModRequest:
        guild = interaction.guild
        assert guild is not None and isinstance(interaction.user, discord.Member)
        channel = fields.pop("channel", None)
        bot = bot_self(guild, channel if isinstance(channel, discord.abc.GuildChannel) else None)
        return ModRequest(
            guild_id=guild.id,
            action=action,
            actor=person(interaction.user, guild),
            bot=bot,
            guild_name=guild.name,
            **fields,  # type: ignore[arg-type]
        )

    async def _run(self, interaction: discord.Interaction[FamilyBot], request: ModRequest) -> None:
        service = self.bot.services.moderation
        service.validate(request)  # refusals answer at once, with nothing stored or sent
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await service.act(request)
        if outcome.error:  # the case is stored as failed: the audit log says so too
            interaction.extras[AUDIT_RESULT] = AuditResult.FAILED
        await interaction.followup.send(case_reply(outcome), ephemeral=True)

    def _on_member(
        self,
        interaction: discord.Interaction[FamilyBot],
        action: Action,
        member: discord.Member | discord.User,
        reason: str | None,
        **fields: object,
    ) -> ModRequest:
        assert interaction.guild is not None
        return self._request(
            interaction,
            action,
            target=person(member, interaction.guild),
            reason=reason or "",
            **fields,
        )

    def _channel(
        self, interaction: discord.Interaction[FamilyBot], channel: ChannelArg
    ) -> discord.TextChannel:
        chosen = channel or interaction.channel
        if not isinstance(chosen, discord.TextChannel):
            raise UserFacingError(_("Please run this in a text channel, or choose one."))
        return chosen

    # --- member actions -----------------------------------------------------------------------
    @app_commands.command(name="warn", description="Warn a member; they are told by DM")
    @app_commands.describe(member="Who to warn", reason="Why (they will see this)")
    @is_facilitator()
    async def warn(
        self, interaction: discord.Interaction[FamilyBot], member: discord.Member, reason: Reason
    ) -> None:
        await self._run(interaction, self._on_member(interaction, Action.WARN, member, reason))

    @app_commands.command(name="timeout", description="Pause a member from posting (up to 28 days)")
    @app_commands.describe(
        member="Who to time out",
        duration="How long, e.g. 30m, 2h, 3d (28d at most)",
        reason="Why (they will see this)",
    )
    @is_facilitator()
    async def timeout(
        self,
        interaction: discord.Interaction[FamilyBot],
        member: discord.Member,
        duration: app_commands.Range[str, 1, 20],
        reason: Reason | None = None,
    ) -> None:
        request = self._on_member(
            interaction, Action.TIMEOUT, member, reason, length=length_of(duration)
        )
        await self._run(interaction, request)

    @app_commands.command(name="untimeout", description="End a member's timeout early")
    @app_commands.describe(member="Whose timeout to end", reason="Why")
    @is_facilitator()
    async def untimeout(
        self,
        interaction: discord.Interaction[FamilyBot],
        member: discord.Member,
        reason: Reason | None = None,
    ) -> None:
        await self._run(interaction, self._on_member(interaction, Action.UNTIMEOUT, member, reason))

    @app_commands.command(name="kick", description="Remove a member from the server")
    @app_commands.describe(member="Who to remove", reason="Why (they will see this)")
    @is_facilitator()
    async def kick(
        self,
        interaction: discord.Interaction[FamilyBot],
        member: discord.Member,
        reason: Reason | None = None,
    ) -> None:
        await self._run(interaction, self._on_member(interaction, Action.KICK, member, reason))

    @app_commands.command(name="ban", description="Ban someone, for a while or until lifted")
    @app_commands.describe(
        member="Who to ban",
        reason="Why (they will see this)",
        duration="How long, e.g. 7d or 2w; leave empty for no end date",
        delete_messages="Also remove their recent messages",
    )
    @app_commands.rename(delete_messages="delete-messages")
    @app_commands.choices(delete_messages=DELETE_WINDOWS)
    @is_facilitator()
    async def ban(
        self,
        interaction: discord.Interaction[FamilyBot],
        member: discord.User,
        reason: Reason | None = None,
        duration: app_commands.Range[str, 1, 20] | None = None,
        delete_messages: app_commands.Choice[int] | None = None,
    ) -> None:
        request = self._on_member(
            interaction,
            Action.BAN,
            member,
            reason,
            length=length_of(duration),
            delete_message_seconds=delete_messages.value if delete_messages else 0,
        )
        await self._run(interaction, request)

    @app_commands.command(name="unban", description="Lift someone's ban")
    @app_commands.describe(member="Who to unban (their user id works too)", reason="Why")
    @is_facilitator()
    async def unban(
        self,
        interaction: discord.Interaction[FamilyBot],
        member: discord.User,
        reason: Reason | None = None,
    ) -> None:
        assert interaction.guild is not None
        request = self._request(
            interaction,
            Action.UNBAN,
            target=person(member, interaction.guild),
            reason=reason or "",
        )
        await self._run(interaction, request)

    @app_commands.command(name="note", description="Add a private note to someone's record")
    @app_commands.describe(
        member="Who the note is about", text="The note (only facilitators see it)"
    )
    @is_facilitator()
    async def note(
        self, interaction: discord.Interaction[FamilyBot], member: discord.User, text: Reason
    ) -> None:
        await self._run(interaction, self._on_member(interaction, Action.NOTE, member, text))

    # --- channel actions ----------------------------------------------------------------------
    @app_commands.command(name="purge", description="Remove recent messages (under 14 days old)")
    @app_commands.describe(
        amount=f"How many recent messages to look through (1-{PURGE_MAX})",
        member="Only remove this person's messages",
        channel="Which channel (this one if empty)",
        reason="Why",
    )
    @is_facilitator()
    async def purge(
        self,
        interaction: discord.Interaction[FamilyBot],
        amount: app_commands.Range[int, 1, PURGE_MAX],
        member: discord.User | None = None,
        channel: ChannelArg = None,
        reason: Reason | None = None,
    ) -> None:
        where = self._channel(interaction, channel)
        request = self._request(
            interaction,
            Action.PURGE,
            channel=where,
            channel_id=where.id,
            amount=amount,
            purge_author_id=member.id if member else None,
            reason=reason or "",
        )
        await self._run(interaction, request)

    @app_commands.command(name="slowmode", description="Set seconds between each member's messages")
    @app_commands.describe(
        seconds="Seconds between messages (0 turns slowmode off)",
        channel="Which channel (this one if empty)",
        reason="Why",
    )
    @is_facilitator()
    async def slowmode(
        self,
        interaction: discord.Interaction[FamilyBot],
        seconds: app_commands.Range[int, 0, MAX_SLOWMODE_SECONDS],
        channel: ChannelArg = None,
        reason: Reason | None = None,
    ) -> None:
        where = self._channel(interaction, channel)
        request = self._request(
            interaction,
            Action.SLOWMODE,
            channel=where,
            channel_id=where.id,
            slowmode_seconds=seconds,
            reason=reason or "",
        )
        await self._run(interaction, request)

    @app_commands.command(name="lock", description="Stop members posting in a channel")
    @app_commands.describe(channel="Which channel (this one if empty)", reason="Why")
    @is_facilitator()
    async def lock(
        self,
        interaction: discord.Interaction[FamilyBot],
        channel: ChannelArg = None,
        reason: Reason | None = None,
    ) -> None:
        await self._lock(interaction, Action.LOCK, channel, reason)

    @app_commands.command(name="unlock", description="Let members post in a channel again")
    @app_commands.describe(channel="Which channel (this one if empty)", reason="Why")
    @is_facilitator()
    async def unlock(
        self,
        interaction: discord.Interaction[FamilyBot],
        channel: ChannelArg = None,
        reason: Reason | None = None,
    ) -> None:
        await self._lock(interaction, Action.UNLOCK, channel, reason)

    async def _lock(
        self,
        interaction: discord.Interaction[FamilyBot],
        action: Action,
        channel: ChannelArg,
        reason: str | None,
    ) -> None:
        where = self._channel(interaction, channel)
        request = self._request(
            interaction, action, channel=where, channel_id=where.id, reason=reason or ""
        )
        await self._run(interaction, request)

    # --- records ------------------------------------------------------------------------------
    @app_commands.command(name="history", description="See someone's moderation cases (private)")
    @app_commands.describe(member="Whose cases to see")
    @is_facilitator()
    async def history(
        self, interaction: discord.Interaction[FamilyBot], member: discord.User
    ) -> None:
        assert interaction.guild_id is not None
        cases = await self.bot.services.moderation.history(interaction.guild_id, member.id)
        await interaction.response.send_message(
            embed=history_embed(member.id, cases), ephemeral=True
        )

    @app_commands.command(name="case", description="See one case in full (private)")
    @app_commands.describe(number="The case number")
    @is_facilitator()
    async def case(
        self, interaction: discord.Interaction[FamilyBot], number: app_commands.Range[int, 1]
    ) -> None:
        assert interaction.guild_id is not None
        view = await self.bot.services.moderation.view_case(interaction.guild_id, number)
        await interaction.response.send_message(embed=case_embed(view), ephemeral=True)

    @app_commands.command(name="reason", description="Change a case's reason (the old one is kept)")
    @app_commands.describe(number="The case number", reason="The new reason")
    @is_facilitator()
    async def reason(
        self,
        interaction: discord.Interaction[FamilyBot],
        number: app_commands.Range[int, 1],
        reason: Reason,
    ) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        case, posted, missing = await self.bot.services.moderation.change_reason(
            interaction.guild_id, number, reason, interaction.user.id
        )
        text = _("Case #{number} now reads: “{reason}”. The earlier reason is kept.").format(
            number=case.number, reason=clip(defuse(case.reason), 300)
        )
        if missing:
            text += " (The mod log isn't set up, so this is stored only.)"
        elif not posted:
            text += " (I couldn't post the change to the mod log.)"
        await interaction.followup.send(text, ephemeral=True)


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(Moderation(bot))
