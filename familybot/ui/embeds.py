"""Embeds: display only. All text here may be user-supplied, so it is clipped and defused."""

from __future__ import annotations

import discord

from familybot.i18n import _, ngettext, pgettext
from familybot.models.groups import GroupSummary, Roster, RosterEntry
from familybot.models.notices import Notice
from familybot.ui.text import clip, defuse, ts, user_mention, when

CALM = discord.Colour(0x5B8DB8)
GOOD = discord.Colour(0x57A773)
QUIET = discord.Colour(0x8E9AAF)


def notice_embed(notice: Notice) -> discord.Embed:
    return discord.Embed(
        title=clip(defuse(notice.title), 256),
        description=clip(defuse(notice.body), 4096),
        colour=CALM,
    )


def _seats(summary: GroupSummary) -> str:
    left = summary.seats_left
    if left is None:
        return _("Open seats")
    if left == 0:
        return _("Full (waitlist open)")
    return ngettext("{n} seat left", "{n} seats left", left).format(n=left)


def _next(summary: GroupSummary) -> str:
    return when(summary.next_session) if summary.next_session else _("No session scheduled yet")


def group_list_embed(summaries: list[GroupSummary], *, paged: bool = False) -> discord.Embed:
    """The groups given; `paged`: one page of a longer list (the buttons under it turn the
    pages), so no "…and N more" line."""
    embed = discord.Embed(title=pgettext("embed-title", "Support groups"), colour=CALM)
    if not summaries:
        embed.description = _("There are no open groups yet. A facilitator can create one.")
        return embed
    lines = []
    for s in summaries[:20]:
        g = s.group
        mode = " · " + _("asks facilitators first") if g.join_mode.value == "approval" else ""
        next_line = _("Next: {when}").format(when=_next(s))
        lines.append(
            f"**{clip(defuse(g.name), 60)}**: {clip(defuse(g.focus), 100)}\n"
            f"{_seats(s)}{mode} · {next_line}"
        )
    if len(summaries) > 20 and not paged:
        more = len(summaries) - 20
        lines.append(
            ngettext(
                "…and {n} more. Use `/group info` with a name.",
                "…and {n} more. Use `/group info` with a name.",
                more,
            ).format(n=more)
        )
    embed.description = clip("\n\n".join(lines), 4096)
    embed.set_footer(
        text=pgettext(
            "embed-footer", "Join with /group join. Who is in a group is never shown publicly."
        )
    )
    return embed


def group_info_embed(summary: GroupSummary) -> discord.Embed:
    g = summary.group
    embed = discord.Embed(
        title=clip(defuse(g.name), 256), description=clip(defuse(g.description), 4096), colour=CALM
    )
    embed.add_field(
        name=pgettext("embed-field-name", "Focus"), value=clip(defuse(g.focus), 1024), inline=False
    )
    embed.add_field(name=pgettext("embed-field-name", "Seats"), value=_seats(summary))
    embed.add_field(
        name=pgettext("embed-field-name", "Joining"),
        value=_("Open: join any time")
        if g.join_mode.value == "open"
        else _("A facilitator approves"),
    )
    embed.add_field(
        name=pgettext("embed-field-name", "Next session"), value=_next(summary), inline=False
    )
    return embed


def guidelines_embed(group_name: str, guidelines: str, version: int) -> discord.Embed:
    embed = discord.Embed(
        title=clip(
            pgettext("embed-title", "Before you join {group}").format(group=defuse(group_name)),
            256,
        ),
        description=clip(defuse(guidelines), 4000),
        colour=CALM,
    )
    embed.set_footer(
        text=pgettext(
            "embed-footer",
            "Group guidelines and confidentiality agreement, version {version}. "
            "Press “I agree” to continue; nothing is recorded unless you do.",
        ).format(version=version)
    )
    return embed


def _roster_line(entry: RosterEntry, with_attendance: bool) -> str:
    since = " · " + _("since {day}").format(day=ts(entry.since, "D")) if entry.since else ""
    attendance = (
        " · "
        + _("attended {attended}/{sessions}").format(
            attended=entry.attended, sessions=entry.sessions
        )
        if with_attendance and entry.sessions
        else ""
    )
    return f"{user_mention(entry.user_id)}{since}{attendance}"


def roster_embed(roster: Roster) -> discord.Embed:
    g = roster.group
    cap = f"/{g.capacity}" if g.capacity else ""
    title = pgettext("embed-title", "Roster: {group}").format(group=defuse(g.name))
    embed = discord.Embed(title=clip(title, 256), colour=QUIET)
    members = "\n".join(_roster_line(e, True) for e in roster.members) or _("Nobody yet.")
    embed.add_field(
        name=pgettext("embed-field-name", "Members ({count})").format(
            count=f"{len(roster.members)}{cap}"
        ),
        value=clip(members, 1024),
        inline=False,
    )
    if roster.waitlisted:
        waiting = "\n".join(
            f"{i}. {_roster_line(e, False)}" for i, e in enumerate(roster.waitlisted, start=1)
        )
        embed.add_field(
            name=pgettext("embed-field-name", "Waitlist ({count})").format(
                count=len(roster.waitlisted)
            ),
            value=clip(waiting, 1024),
            inline=False,
        )
    if roster.pending:
        pending = "\n".join(_roster_line(e, False) for e in roster.pending)
        embed.add_field(
            name=pgettext("embed-field-name", "Waiting for approval ({count})").format(
                count=len(roster.pending)
            ),
            value=clip(pending, 1024),
            inline=False,
        )
    facilitators = ", ".join(user_mention(u) for u in roster.facilitator_ids) or _("None")
    embed.add_field(
        name=pgettext("embed-field-name", "Facilitators"),
        value=clip(facilitators, 1024),
        inline=False,
    )
    embed.set_footer(text=pgettext("embed-footer", "Only you can see this roster."))
    return embed
