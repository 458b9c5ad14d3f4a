"""/my: a member's own schedule, time zone, reminder settings, calendar and data."""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.ext import commands

from cogs.autocomplete import timezones
from cogs.my_components import ForgetConfirmView
from familybot import i18n
from familybot.bot import FamilyBot
from familybot.i18n import _
from familybot.services.sessions.options import describe_offsets
from familybot.ui.calendar import calendar_reply
from familybot.ui.privacy import DATA_INTRO, FORGET_EXPLAINED, data_file
from familybot.ui.sessions import my_schedule_embed

ON_OFF = [app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]
LANGUAGE_CHOICES = [
    app_commands.Choice(name="auto (your Discord language)", value="auto"),
    app_commands.Choice(name="English", value="en"),
    app_commands.Choice(name="Español", value="es"),
]
TITLE_CHOICES = [
    app_commands.Choice(name="neutral", value="neutral"),
    app_commands.Choice(name="full", value="full"),
]


@app_commands.guild_only()
class My(commands.GroupCog, group_name="my", group_description="Your own schedule and settings"):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="schedule", description="Your groups' sessions in the next two weeks"
    )
    async def schedule(self, interaction: discord.Interaction[FamilyBot]) -> None:
        assert interaction.guild_id is not None
        items = await self.bot.services.sessions.my_schedule(
            interaction.guild_id, interaction.user.id
        )
        tz = await self.bot.services.sessions.prefs_timezone(interaction.user.id)
        await interaction.response.send_message(embed=my_schedule_embed(items, tz), ephemeral=True)

    @app_commands.command(name="timezone", description="Tell FamilyBot your time zone")
    @app_commands.describe(tz="An IANA time zone, e.g. America/Chicago")
    @app_commands.autocomplete(tz=timezones)
    async def timezone(self, interaction: discord.Interaction[FamilyBot], tz: str) -> None:
        saved = await self.bot.services.sessions.set_my_timezone(interaction.user.id, tz)
        await interaction.response.send_message(
            _(
                "Saved: your time zone is **{tz}**. Session times always show in your own "
                "local time in Discord."
            ).format(tz=saved),
            ephemeral=True,
        )

    @app_commands.command(name="reminders", description="Get session reminders by DM too")
    @app_commands.describe(
        dm="Also send reminders to your DMs",
        offsets="When, before each session, e.g. '24h, 1h' (default: your group's times)",
    )
    @app_commands.choices(dm=ON_OFF)
    async def reminders(
        self,
        interaction: discord.Interaction[FamilyBot],
        dm: app_commands.Choice[str],
        offsets: app_commands.Range[str, 1, 60] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        on = dm.value == "on"
        saved = await self.bot.services.sessions.set_my_reminders(
            interaction.guild_id, interaction.user.id, on, offsets
        )
        if not on:
            text = _("Done: no reminders by DM. You'll still see them in your group's channel.")
        elif saved:
            text = _("Done: I'll DM you {offsets} before each of your groups' sessions.").format(
                offsets=describe_offsets(saved)
            )
        else:
            text = _("Done: I'll DM you reminders at your groups' usual times.")
        if on:
            text += " " + _("If your DMs are closed for this server, I'll let you know here.")
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(
        name="calendar", description="Your groups' sessions for your calendar app (file and link)"
    )
    @app_commands.describe(
        new_link="Make a new private link and stop the old one (if you lost or shared it)",
        titles="neutral: “Support group session” (no group names); full: session and group names",
    )
    @app_commands.rename(new_link="new-link")
    @app_commands.choices(titles=TITLE_CHOICES)
    async def calendar(
        self,
        interaction: discord.Interaction[FamilyBot],
        new_link: bool = False,
        titles: app_commands.Choice[str] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        result = await self.bot.services.calendar_feed.my_calendar(
            interaction.guild_id,
            interaction.user.id,
            new_link=new_link,
            titles=titles.value if titles is not None else None,
        )
        files = []
        if result.series_count:
            files.append(discord.File(io.BytesIO(result.ics), filename="familybot-sessions.ics"))
        # Embeds suppressed: Discord would otherwise fetch the private link for a preview.
        await interaction.response.send_message(
            calendar_reply(result), files=files, ephemeral=True, suppress_embeds=True
        )

    @app_commands.command(
        name="language", description="Choose the language FamilyBot uses with you"
    )
    @app_commands.describe(choice="auto follows your Discord language; or pick one")
    @app_commands.choices(choice=LANGUAGE_CHOICES)
    async def language(
        self, interaction: discord.Interaction[FamilyBot], choice: app_commands.Choice[str]
    ) -> None:
        saved = await self.bot.services.language.set_user_language(
            interaction.user.id, choice.value
        )
        # The confirmation already speaks the new language.
        i18n.activate_for_interaction(interaction)
        if saved is None:
            text = _(
                "Done. I'll follow the language of your Discord app ({language}). You can "
                "change it at any time with `/my language`."
            ).format(language=i18n.language_name(i18n.current_language()))
        else:
            text = _(
                "Done. From now on I'll answer you in English, and send your direct messages "
                "in English too. You can change it at any time with `/my language`."
            )
        await interaction.response.send_message(
            text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @app_commands.command(name="data", description="Download everything FamilyBot stores about you")
    async def data(self, interaction: discord.Interaction[FamilyBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        exported = await self.bot.services.privacy.export_user(interaction.user.id)
        await interaction.followup.send(str(DATA_INTRO), file=data_file(exported), ephemeral=True)

    @app_commands.command(
        name="forget", description="Delete what FamilyBot stores about you (asks first)"
    )
    async def forget(self, interaction: discord.Interaction[FamilyBot]) -> None:
        user_id = interaction.user.id
        view = ForgetConfirmView(user_id, lambda: self.bot.services.privacy.forget_user(user_id))
        await interaction.response.send_message(str(FORGET_EXPLAINED), view=view, ephemeral=True)
        view.message = await interaction.original_response()


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(My(bot))
