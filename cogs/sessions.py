"""/session: schedule and run sessions; reminders go out on their own."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs.autocomplete import group_names, seated_group_names, timezones
from cogs.sessions_autocomplete import (
    editable_sessions,
    next_days,
    past_dates,
    recent_and_upcoming_dates,
    session_autocomplete,
    upcoming_dates,
)
from cogs.sessions_components import SESSION_ITEMS
from familybot.bot import FamilyBot
from familybot.checks import actor_of, is_facilitator, member_is_facilitator
from familybot.i18n import _, ngettext, pgettext
from familybot.services.sessions.options import parse_rule_change
from familybot.services.sessions.recurrence import Repeat, discord_timestamp
from familybot.ui.facilitator import rsvp_embeds
from familybot.ui.sessions import attendance_view, edit_reply, schedule_reply, upcoming_embed
from familybot.ui.text import clip, shown, user_mention, when

REPEATS = [
    app_commands.Choice(name="once", value="once"),
    app_commands.Choice(name="weekly", value="weekly"),
    app_commands.Choice(name="every two weeks (biweekly)", value="biweekly"),
    app_commands.Choice(name="monthly (same weekday, e.g. 2nd Tuesday)", value="monthly"),
]

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAYS = [app_commands.Choice(name=name, value=name.lower()) for name in DAY_NAMES]
WEEKS = [
    app_commands.Choice(name=name, value=name) for name in ("1st", "2nd", "3rd", "4th", "last")
]


@app_commands.guild_only()
class Sessions(
    commands.GroupCog, group_name="session", group_description="Group sessions and reminders"
):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        # Its persistent buttons and menus: answered by custom_id, also after a restart.
        self.bot.add_dynamic_items(*SESSION_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*SESSION_ITEMS)

    # --- facilitators ---------------------------------------------------------------------
    @app_commands.command(name="schedule", description="Schedule a session or a repeating series")
    @app_commands.describe(
        group="The group that meets",
        title="What the session is called, e.g. 'Weekly check-in'",
        date="The (first) date, YYYY-MM-DD",
        time="The start time, e.g. 18:30 or 6:30pm",
        repeat="How often it repeats",
        duration="Length in minutes",
        timezone="Time zone of the time above (default: the server's)",
        voice_channel="Where the group meets, if in a voice channel",
        week="Monthly only: which week of the month (e.g. last = the last Thursday)",
        until="The last day the series may meet, YYYY-MM-DD (default: no end)",
    )
    @app_commands.rename(voice_channel="voice-channel")
    @app_commands.choices(repeat=REPEATS, week=WEEKS)
    @app_commands.autocomplete(group=group_names, date=next_days, timezone=timezones)
    @is_facilitator()
    async def schedule(
        self,
        interaction: discord.Interaction[FamilyBot],
        group: str,
        title: app_commands.Range[str, 1, 100],
        date: app_commands.Range[str, 1, 40],
        time: app_commands.Range[str, 1, 40],
        repeat: app_commands.Choice[str],
        duration: app_commands.Range[int, 15, 480],
        timezone: str | None = None,
        voice_channel: discord.VoiceChannel | discord.StageChannel | None = None,
        week: app_commands.Choice[str] | None = None,
        until: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        outcome = await self.bot.services.sessions.schedule(
            guild_id=interaction.guild_id,
            actor_id=interaction.user.id,
            group_name=group,
            title=title,
            date_text=date,
            time_text=time,
            repeat=Repeat(repeat.value),
            duration_minutes=duration,
            tz=timezone,
            voice_channel_id=voice_channel.id if voice_channel else None,
            week_text=week.value if week else None,
            until_text=until,
        )
        await interaction.response.send_message(schedule_reply(outcome), ephemeral=True)

    @app_commands.command(name="cancel", description="Cancel one session, or the whole series")
    @app_commands.describe(
        session="The session series",
        date="Only this date (YYYY-MM-DD); leave empty to cancel the whole series",
        reason="A short note for the members who planned to come",
    )
    @app_commands.autocomplete(session=session_autocomplete, date=upcoming_dates)
    @is_facilitator()
    async def cancel(
        self,
        interaction: discord.Interaction[FamilyBot],
        session: str,
        date: str | None = None,
        reason: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.bot.services.sessions.changes.cancel(
            guild_id=interaction.guild_id,
            actor_id=interaction.user.id,
            ref=session,
            date_text=date,
            reason=reason,
        )
        if outcome.occurrence:
            done = _("Cancelled the session on {day} of **{title}**.").format(
                day=discord_timestamp(outcome.occurrence.start_utc, "D"),
                title=shown(outcome.series.title),
            )
        else:
            done = _("Cancelled the whole series of **{title}**.").format(
                title=shown(outcome.series.title)
            )
        await interaction.followup.send(
            done + " " + _told(outcome.told, outcome.not_reached),
            ephemeral=True,
        )

    @app_commands.command(name="reschedule", description="Move one session to another date or time")
    @app_commands.describe(
        session="The session series",
        date="The date of the session to move (YYYY-MM-DD)",
        new_date="Its new date (YYYY-MM-DD)",
        new_time="Its new start time, e.g. 18:30",
    )
    @app_commands.rename(new_date="new-date", new_time="new-time")
    @app_commands.autocomplete(
        session=session_autocomplete, date=upcoming_dates, new_date=next_days
    )
    @is_facilitator()
    async def reschedule(
        self,
        interaction: discord.Interaction[FamilyBot],
        session: str,
        date: str,
        new_date: app_commands.Range[str, 1, 40],
        new_time: app_commands.Range[str, 1, 40],
    ) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.bot.services.sessions.changes.reschedule(
            guild_id=interaction.guild_id,
            actor_id=interaction.user.id,
            ref=session,
            date_text=date,
            new_date_text=new_date,
            new_time_text=new_time,
        )
        assert outcome.new_start is not None
        await interaction.followup.send(
            _("Moved **{title}** to {when}.").format(
                title=shown(outcome.series.title), when=when(outcome.new_start)
            )
            + " "
            + _told(outcome.told, outcome.not_reached),
            ephemeral=True,
        )

    @app_commands.command(
        name="edit", description="Change a series from its next session on (past ones stay)"
    )
    @app_commands.describe(
        session="The session series",
        day="A new day of the week",
        time="A new start time, e.g. 18:30 or 6:30pm",
        timezone="A new time zone (the start time stays the same on the clock)",
        repeat="A new rhythm",
        duration="A new length in minutes",
        voice_channel="A new voice channel",
        title="A new title",
        until="A new last day, YYYY-MM-DD, or 'never' to remove the end",
        week="Monthly only: which week of the month (e.g. last)",
    )
    @app_commands.rename(voice_channel="voice-channel")
    @app_commands.choices(day=DAYS, repeat=REPEATS, week=WEEKS)
    @app_commands.autocomplete(session=editable_sessions, timezone=timezones)
    @is_facilitator()
    async def edit(
        self,
        interaction: discord.Interaction[FamilyBot],
        session: str,
        day: app_commands.Choice[str] | None = None,
        time: app_commands.Range[str, 1, 40] | None = None,
        timezone: str | None = None,
        repeat: app_commands.Choice[str] | None = None,
        duration: app_commands.Range[int, 15, 480] | None = None,
        voice_channel: discord.VoiceChannel | discord.StageChannel | None = None,
        title: app_commands.Range[str, 1, 100] | None = None,
        until: app_commands.Range[str, 1, 40] | None = None,
        week: app_commands.Choice[str] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        change = parse_rule_change(
            day=[d.lower() for d in DAY_NAMES].index(day.value) if day else None,
            time_text=time,
            tz_text=timezone,
            repeat=repeat.value if repeat else None,
            duration=duration,
            until_text=until,
            week_text=week.value if week else None,
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.bot.services.sessions.editor.edit(
            guild_id=interaction.guild_id,
            actor=actor_of(interaction),
            ref=session,
            change=change,
            title=title,
            voice_channel_id=voice_channel.id if voice_channel else None,
        )
        await interaction.followup.send(
            edit_reply(outcome) + " " + _told(outcome.told, outcome.not_reached), ephemeral=True
        )

    @app_commands.command(name="attendance", description="Mark who attended a session")
    @app_commands.describe(
        session="The session series", date="The date of the session (YYYY-MM-DD)"
    )
    @app_commands.autocomplete(session=session_autocomplete, date=past_dates)
    @is_facilitator()
    async def attendance(
        self, interaction: discord.Interaction[FamilyBot], session: str, date: str
    ) -> None:
        assert interaction.guild_id is not None
        sheet = await self.bot.services.sessions.attendance.attendance_sheet(
            interaction.guild_id, session, date
        )
        members = ", ".join(user_mention(u) for u in sheet.member_ids) or _("no members yet")
        await interaction.response.send_message(
            clip(
                _(
                    "Attendance for **{title}** on {day} ({marked} marked so far).\n"
                    "Members of {group}: {members}\nChoose everyone who attended:"
                ).format(
                    title=shown(sheet.series.title),
                    day=discord_timestamp(sheet.occurrence.start_utc, "D"),
                    marked=len(sheet.present_ids),
                    group=shown(sheet.group.name),
                    members=members,
                ),
                2000,
            ),
            view=attendance_view(sheet.series.id, sheet.occurrence.key, sheet.present_ids),
            ephemeral=True,
        )

    @app_commands.command(
        name="rsvps", description="Who is coming to a session, and who hasn't answered yet"
    )
    @app_commands.describe(
        session="The session series",
        date="Which date (YYYY-MM-DD); leave empty for the next one",
    )
    # Only the sessions of groups this person facilitates: the command refuses the others.
    @app_commands.autocomplete(session=editable_sessions, date=recent_and_upcoming_dates)
    @is_facilitator()
    async def rsvps(
        self,
        interaction: discord.Interaction[FamilyBot],
        session: str,
        date: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        """Only the group's own facilitators (and admins) see who replied; always privately."""
        assert interaction.guild_id is not None
        roster = await self.bot.services.facilitator_views.rsvps(
            interaction.guild_id, actor_of(interaction), session, date
        )
        first, *more = rsvp_embeds(roster)
        none = discord.AllowedMentions.none()
        await interaction.response.send_message(embed=first, ephemeral=True, allowed_mentions=none)
        for embed in more:
            await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=none)

    # --- anyone in the group ----------------------------------------------------------------
    @app_commands.command(
        name="list", description="Upcoming sessions of your groups, with replies so far"
    )
    @app_commands.describe(group="Only this group")
    @app_commands.autocomplete(group=seated_group_names)
    async def list_sessions(
        self, interaction: discord.Interaction[FamilyBot], group: str | None = None
    ) -> None:
        assert interaction.guild_id is not None
        facilitator = await member_is_facilitator(interaction)
        items = await self.bot.services.sessions.list_for(
            interaction.guild_id, interaction.user.id, facilitator, group
        )
        await interaction.response.send_message(
            embed=upcoming_embed(
                pgettext("embed-title", "Upcoming sessions"),
                items,
                empty=_("No upcoming sessions in the next four weeks."),
                show_mine=True,
            ),
            ephemeral=True,
        )


def _told(told: int, missed: int) -> str:
    parts = []
    if told:
        parts.append(
            ngettext(
                "{n} member who planned to come was told by DM.",
                "{n} members who planned to come were told by DM.",
                told,
            ).format(n=told)
        )
    if missed:
        parts.append(
            ngettext(
                "{n} couldn't be reached by DM; they'll be told privately next time they use "
                "the bot.",
                "{n} couldn't be reached by DM; they'll be told privately next time they use "
                "the bot.",
                missed,
            ).format(n=missed)
        )
    if not told and not missed:
        parts.append(_("Nobody had said they were coming yet."))
    return " ".join(parts)


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(Sessions(bot))
