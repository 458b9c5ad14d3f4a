"""Embeds: display only. All text here may be user-supplied, so it is clipped and defused."""

from __future__ import annotations

import discord

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
        return "Open seats"
    if left == 0:
        return "Full (waitlist open)"
    return f"{left} seat{'s' if left != 1 else ''} left"


def _next(summary: GroupSummary) -> str:
    return when(summary.next_session) if summary.next_session else "No session scheduled yet"


def group_list_embed(summaries: list[GroupSummary], *, paged: bool = False) -> discord.Embed:
    """The groups given; `paged`: one page of a longer list (the buttons under it turn the
    pages), so no "…and N more" line."""
    embed = discord.Embed(title="Support groups", colour=CALM)
    if not summaries:
        embed.description = "There are no open groups yet. A facilitator can create one."
        return embed
    lines = []
    for s in summaries[:20]:
        g = s.group
        mode = " · asks facilitators first" if g.join_mode.value == "approval" else ""
        lines.append(
            f"**{clip(defuse(g.name), 60)}**: {clip(defuse(g.focus), 100)}\n"
            f"{_seats(s)}{mode} · Next: {_next(s)}"
        )
    if len(summaries) > 20 and not paged:
        lines.append(f"…and {len(summaries) - 20} more. Use `/group info` with a name.")
    embed.description = clip("\n\n".join(lines), 4096)
    embed.set_footer(text="Join with /group join. Who is in a group is never shown publicly.")
    return embed


def group_info_embed(summary: GroupSummary) -> discord.Embed:
    g = summary.group
    embed = discord.Embed(
        title=clip(defuse(g.name), 256), description=clip(defuse(g.description), 4096), colour=CALM
    )
    embed.add_field(name="Focus", value=clip(defuse(g.focus), 1024), inline=False)
    embed.add_field(name="Seats", value=_seats(summary))
    embed.add_field(
        name="Joining",
        value="Open: join any time" if g.join_mode.value == "open" else "A facilitator approves",
    )
    embed.add_field(name="Next session", value=_next(summary), inline=False)
    return embed


def guidelines_embed(group_name: str, guidelines: str, version: int) -> discord.Embed:
    embed = discord.Embed(
        title=clip(f"Before you join {defuse(group_name)}", 256),
        description=clip(defuse(guidelines), 4000),
        colour=CALM,
    )
    embed.set_footer(
        text=f"Group guidelines and confidentiality agreement, version {version}. "
        "Press “I agree” to continue; nothing is recorded unless you do."
    )
    return embed


def _roster_line(entry: RosterEntry, with_attendance: bool) -> str:
    since = f" · since {ts(entry.since, 'D')}" if entry.since else ""
    attendance = (
        f" · attended {entry.attended}/{entry.sessions}"
        if with_attendance and entry.sessions
        else ""
    )
    return f"{user_mention(entry.user_id)}{since}{attendance}"


def roster_embed(roster: Roster) -> discord.Embed:
    g = roster.group
    cap = f"/{g.capacity}" if g.capacity else ""
    embed = discord.Embed(title=clip(f"Roster: {defuse(g.name)}", 256), colour=QUIET)
    members = "\n".join(_roster_line(e, True) for e in roster.members) or "Nobody yet."
    embed.add_field(
        name=f"Members ({len(roster.members)}{cap})", value=clip(members, 1024), inline=False
    )
    if roster.waitlisted:
        waiting = "\n".join(
            f"{i}. {_roster_line(e, False)}" for i, e in enumerate(roster.waitlisted, start=1)
        )
        embed.add_field(
            name=f"Waitlist ({len(roster.waitlisted)})", value=clip(waiting, 1024), inline=False
        )
    if roster.pending:
        pending = "\n".join(_roster_line(e, False) for e in roster.pending)
        embed.add_field(
            name=f"Waiting for approval ({len(roster.pending)})",
            value=clip(pending, 1024),
            inline=False,
        )
    facilitators = ", ".join(user_mention(u) for u in roster.facilitator_ids) or "None"
    embed.add_field(name="Facilitators", value=clip(facilitators, 1024), inline=False)
    embed.set_footer(text="Only you can see this roster.")
    return embed
