"""/group: find, join and run support groups."""

from __future__ import annotations

import asyncio
import io

import discord
from discord import app_commands
from discord.ext import commands

from cogs.autocomplete import facilitated_group_names, group_names, my_group_names
from cogs.groups_components import GROUP_ITEMS, send_join_prompt
from familybot.bot import FamilyBot
from familybot.checks import actor_of, is_facilitator
from familybot.discord.names import display_names
from familybot.i18n import _, lazy_gettext, ngettext
from familybot.models import JoinMode
from familybot.models.setup import Actor
from familybot.services.groups.attendance_csv import build_csv
from familybot.services.groups.facilitator_views import WEEKS_DEFAULT, WEEKS_MAX
from familybot.services.groups.stats_chart import ChartPoint, render_attendance_chart
from familybot.services.sessions.options import parse_offsets
from familybot.tree_audit import AUDIT_ACTION
from familybot.ui.embeds import group_info_embed, group_list_embed, roster_embed
from familybot.ui.facilitator import chart_alt_text, per_session_embed, stats_text
from familybot.ui.text import channel_mention, shown, user_mention
from familybot.ui.views import group_list_view

JOIN_MODES = [
    app_commands.Choice(name="open: anyone can join", value="open"),
    app_commands.Choice(name="approval: a facilitator approves each request", value="approval"),
]
STATS_FORMATS = [
    app_commands.Choice(name="chart: a picture with the figures in text", value="chart"),
    app_commands.Choice(name="csv: attendance file for program reporting", value="csv"),
]
CSV_INTRO = lazy_gettext(
    "Here is the attendance for **{name}** ({rows} rows: one per member per session). "
    "It contains personal data: please store it securely, share it only with the people "
    "who need it for reporting, and delete it when you're done. Only you can see this."
)


def _member_actor(member: discord.Member) -> Actor:
    perms = member.guild_permissions
    return Actor(
        user_id=member.id,
        role_ids=frozenset(r.id for r in member.roles),
        manage_guild=perms.manage_guild,
        administrator=perms.administrator,
    )


@app_commands.guild_only()
class Groups(
    commands.GroupCog, group_name="group", group_description="Find, join and run support groups"
):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        # Its persistent buttons and menus: answered by custom_id, also after a restart.
        self.bot.add_dynamic_items(*GROUP_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*GROUP_ITEMS)

    # --- anyone ---------------------------------------------------------------------------
    @app_commands.command(name="list", description="See the open support groups")
    async def list_groups(self, interaction: discord.Interaction[FamilyBot]) -> None:
        assert interaction.guild_id is not None
        page = await self.bot.services.groups.list_page(interaction.guild_id, 0)
        view = group_list_view(page)
        embed = group_list_embed(page.summaries, paged=view is not None)
        if view is None:
            await interaction.response.send_message(embed=embed, ephemeral=True)
        else:
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    @app_commands.command(name="info", description="Read about one support group")
    @app_commands.describe(name="The group's name")
    @app_commands.autocomplete(name=group_names)
    async def info(self, interaction: discord.Interaction[FamilyBot], name: str) -> None:
        assert interaction.guild_id is not None
        summary = await self.bot.services.groups.info(interaction.guild_id, name)
        await interaction.response.send_message(embed=group_info_embed(summary), ephemeral=True)

    @app_commands.command(
        name="join", description="Join a support group (you'll see its guidelines first)"
    )
    @app_commands.describe(name="The group's name")
    @app_commands.autocomplete(name=group_names)
    async def join(self, interaction: discord.Interaction[FamilyBot], name: str) -> None:
        assert interaction.guild_id is not None
        group = await self.bot.services.groups.prepare_join(
            interaction.guild_id, interaction.user.id, name
        )
        await send_join_prompt(interaction, group)

    @app_commands.command(name="leave", description="Leave a support group (or its waitlist)")
    @app_commands.describe(name="The group's name")
    @app_commands.autocomplete(name=my_group_names)
    async def leave(self, interaction: discord.Interaction[FamilyBot], name: str) -> None:
        assert interaction.guild_id is not None
        outcome = await self.bot.services.groups.leave(
            interaction.guild_id, interaction.user.id, name
        )
        await interaction.response.send_message(
            _("You've left **{group}**. Take care, and you're welcome back any time. 💙").format(
                group=shown(outcome.group.name)
            ),
            ephemeral=True,
        )

    # --- facilitators ---------------------------------------------------------------------
    @app_commands.command(
        name="create", description="Create a support group with its own private channel"
    )
    @app_commands.describe(
        name="The group's name",
        description="What the group is about, for families deciding whether to join",
        focus="Who it is for, e.g. 'parents of teens in IOP'",
        capacity="Most members at once, up to 86 (leave empty for as many as fit)",
        join_mode="Open, or a facilitator approves each request",
    )
    @app_commands.rename(join_mode="join-mode")
    @app_commands.choices(join_mode=JOIN_MODES)
    @is_facilitator()
    async def create(
        self,
        interaction: discord.Interaction[FamilyBot],
        name: app_commands.Range[str, 2, 50],
        description: app_commands.Range[str, 1, 1000],
        focus: app_commands.Range[str, 1, 100],
        join_mode: app_commands.Choice[str],
        capacity: app_commands.Range[int, 1, 1000] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        group = await self.bot.services.groups.create(
            guild_id=interaction.guild_id,
            actor_id=interaction.user.id,
            name=name,
            description=description,
            focus=focus,
            capacity=capacity,
            join_mode=JoinMode(join_mode.value),
        )
        if group.channel_id:
            text = _(
                "Created **{group}**. Its private channel is {channel}. Families can join with "
                "`/group join`."
            ).format(group=shown(group.name), channel=channel_mention(group.channel_id))
        else:
            text = _("Created **{group}**. Families can join with `/group join`.").format(
                group=shown(group.name)
            )
        await interaction.followup.send(text, ephemeral=True)

    @app_commands.command(
        name="members", description="See a group's roster, waitlist and attendance"
    )
    @app_commands.describe(name="The group's name")
    @app_commands.autocomplete(name=group_names)
    @is_facilitator()
    async def members(self, interaction: discord.Interaction[FamilyBot], name: str) -> None:
        assert interaction.guild_id is not None
        roster = await self.bot.services.groups.roster(interaction.guild_id, name)
        await interaction.response.send_message(embed=roster_embed(roster), ephemeral=True)

    @app_commands.command(
        name="stats", description="Attendance and RSVPs over time, as a chart or a CSV file"
    )
    @app_commands.describe(
        name="The group's name",
        weeks=f"How many weeks back (default {WEEKS_DEFAULT}, at most {WEEKS_MAX})",
        fmt="A chart with the figures in text, or a CSV file for program reporting",
    )
    @app_commands.rename(fmt="format")
    @app_commands.choices(fmt=STATS_FORMATS)
    @app_commands.autocomplete(name=facilitated_group_names)
    @is_facilitator()
    async def stats(
        self,
        interaction: discord.Interaction[FamilyBot],
        name: str,
        weeks: app_commands.Range[int, 1, 52] | None = None,
        fmt: app_commands.Choice[str] | None = None,
    ) -> None:
        """Only the group's own facilitators (and admins); always private."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        views = self.bot.services.facilitator_views
        none = discord.AllowedMentions.none()
        if fmt is not None and fmt.value == "csv":
            interaction.extras[AUDIT_ACTION] = "group.stats.csv"  # the export is audited as such
            export = await views.export(interaction.guild_id, actor_of(interaction), name, weeks)
            names = await display_names(interaction.guild, export.user_ids)
            data = build_csv(export.rows, names)
            await interaction.followup.send(
                CSV_INTRO.format(name=shown(export.stats.group.name), rows=len(export.rows)),
                file=discord.File(io.BytesIO(data), filename="attendance.csv"),
                ephemeral=True,
                allowed_mentions=none,
            )
            return
        stats = await views.stats(interaction.guild_id, actor_of(interaction), name, weeks)
        if not stats.sessions:
            await interaction.followup.send(
                stats_text(stats)
                + "\n"
                + _("No sessions took place in this period, so there's no chart yet."),
                ephemeral=True,
                allowed_mentions=none,
            )
            return
        points = [ChartPoint(s.day, s.going, s.maybe, s.attended) for s in stats.sessions]
        # Drawing takes tens of milliseconds: off the event loop.
        png = await asyncio.to_thread(render_attendance_chart, points, stats.group.capacity)
        await interaction.followup.send(
            stats_text(stats),
            embed=per_session_embed(stats),
            file=discord.File(
                io.BytesIO(png), filename="attendance.png", description=chart_alt_text(stats)
            ),
            ephemeral=True,
            allowed_mentions=none,
        )

    @app_commands.command(name="edit", description="Change a group's details or guidelines")
    @app_commands.describe(
        name="The group to change",
        new_name="A new name",
        description="A new description",
        focus="A new focus",
        capacity="A new capacity, up to 86 (0 for as many as fit)",
        join_mode="Open, or a facilitator approves each request",
        guidelines="New guidelines; members who join later agree to this version",
        reminders="When reminders go out before each session, e.g. '24h, 1h'",
    )
    @app_commands.rename(new_name="new-name", join_mode="join-mode")
    @app_commands.choices(join_mode=JOIN_MODES)
    @app_commands.autocomplete(name=group_names)
    @is_facilitator()
    async def edit(
        self,
        interaction: discord.Interaction[FamilyBot],
        name: str,
        new_name: app_commands.Range[str, 2, 50] | None = None,
        description: app_commands.Range[str, 1, 1000] | None = None,
        focus: app_commands.Range[str, 1, 100] | None = None,
        capacity: app_commands.Range[int, 0, 1000] | None = None,
        join_mode: app_commands.Choice[str] | None = None,
        guidelines: app_commands.Range[str, 1, 3000] | None = None,
        reminders: app_commands.Range[str, 1, 60] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        group, promoted = await self.bot.services.groups.edit(
            guild_id=interaction.guild_id,
            name=name,
            new_name=new_name,
            description=description,
            focus=focus,
            capacity=capacity,
            join_mode=JoinMode(join_mode.value) if join_mode else None,
            guidelines=guidelines,
            reminder_offsets=parse_offsets(reminders) if reminders else None,
        )
        text = _("Saved the changes to **{group}**.").format(group=shown(group.name))
        if promoted:
            text += " " + ngettext(
                "{n} from the waitlist got a seat and was told by DM.",
                "{n} from the waitlist got a seat and were told by DM.",
                len(promoted),
            ).format(n=len(promoted))
        await interaction.followup.send(text, ephemeral=True)

    @app_commands.command(
        name="remove", description="Remove a member from a group (or its waitlist)"
    )
    @app_commands.describe(member="Who to remove", name="The group's name")
    @app_commands.autocomplete(name=group_names)
    @is_facilitator()
    async def remove(
        self, interaction: discord.Interaction[FamilyBot], member: discord.User, name: str
    ) -> None:
        assert interaction.guild_id is not None
        outcome = await self.bot.services.groups.remove_member(
            interaction.guild_id, name, member.id
        )
        text = _("Removed {member} from **{group}**; they were told privately.").format(
            member=user_mention(member.id), group=shown(outcome.group.name)
        )
        if outcome.promoted_user_ids:
            text += " " + _("The next person on the waitlist got the seat.")
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="add-facilitator", description="Add a facilitator to a group")
    @app_commands.describe(member="A member with the facilitator role", name="The group's name")
    @app_commands.autocomplete(name=group_names)
    @is_facilitator()
    async def add_facilitator(
        self, interaction: discord.Interaction[FamilyBot], member: discord.Member, name: str
    ) -> None:
        assert interaction.guild_id is not None
        target_ok = await self.bot.services.setup.is_facilitator(
            interaction.guild_id, _member_actor(member)
        )
        group = await self.bot.services.groups.add_facilitator(
            interaction.guild_id, name, member.id, actor_of(interaction).user_id, target_ok
        )
        await interaction.response.send_message(
            _("{member} now facilitates **{group}** and can see its channel.").format(
                member=user_mention(member.id), group=shown(group.name)
            ),
            ephemeral=True,
        )

    @app_commands.command(
        name="archive", description="Archive a group: no new members, channel kept read-only"
    )
    @app_commands.describe(name="The group's name")
    @app_commands.autocomplete(name=group_names)
    @is_facilitator()
    async def archive(self, interaction: discord.Interaction[FamilyBot], name: str) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        group = await self.bot.services.groups.archive(interaction.guild_id, name)
        await interaction.followup.send(
            _(
                "Archived **{group}**. Its members can still read the channel; nobody can "
                "post or join any more."
            ).format(group=shown(group.name)),
            ephemeral=True,
        )


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(Groups(bot))
