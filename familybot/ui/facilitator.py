"""How the facilitator's views look: /session rsvps embeds, /group stats text and chart alt
text. Rendering only; everything here is sent ephemerally with mentions switched off."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from familybot.models.facilitator_views import GroupStats, RsvpRoster
from familybot.ui.text import clip, shown, ts, user_mention

CALM = discord.Colour(0x5B8DB8)
# Discord's embed limits, with room to spare for the totals.
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
EMBED_TOTAL_MAX = 5800
ALT_TEXT_MAX = 1024
MESSAGE_MAX = 2000
TABLE_MAX = 4096


def _chunks(ids: Sequence[int]) -> list[str]:
    """Mentions joined into field values of at most FIELD_VALUE_MAX characters."""
    out: list[str] = []
    current = ""
    for uid in ids:
        mention = user_mention(uid)
        if current and len(current) + 2 + len(mention) > FIELD_VALUE_MAX:
            out.append(current)
            current = mention
        else:
            current = f"{current}, {mention}" if current else mention
    if current:
        out.append(current)
    return out


def rsvp_embeds(roster: RsvpRoster) -> list[discord.Embed]:
    """One or more embeds (each within Discord's limits; send one per message)."""
    title = clip(f"Replies: {roster.series.title}", 256)
    start = roster.occurrence.start_utc
    summary = (
        f"**{shown(roster.group.name)}** · {ts(start, 'F')} ({ts(start, 'R')})\n"
        f"Going {len(roster.going)} · Maybe {len(roster.maybe)} · "
        f"Can't make it {len(roster.cant)} · Not answered {len(roster.unanswered)}"
    )
    if roster.former:
        summary += (
            f"\n{roster.former} repl{'ies' if roster.former != 1 else 'y'} from people who "
            "have since left the group aren't listed."
        )
    summary += "\nOnly you can see this."
    fields: list[tuple[str, str]] = []
    for label, ids in (
        ("Going", roster.going),
        ("Maybe", roster.maybe),
        ("Can't make it", roster.cant),
        ("Not answered yet", roster.unanswered),
    ):
        chunks = _chunks(ids) or ["Nobody"]
        for n, chunk in enumerate(chunks):
            name = f"{label} ({len(ids)})" + (", continued" if n else "")
            fields.append((name, chunk))
    embeds = [discord.Embed(title=title, description=summary, colour=CALM)]
    for name, value in fields:
        embed = embeds[-1]
        if len(embed.fields) >= FIELDS_MAX or len(embed) + len(name) + len(value) > (
            EMBED_TOTAL_MAX
        ):
            embed = discord.Embed(title=clip(f"{title} (continued)", 256), colour=CALM)
            embeds.append(embed)
        embed.add_field(name=name, value=value, inline=False)
    return embeds


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def stats_text(stats: GroupStats) -> str:
    """The figures, in words: the message around the chart (or the CSV)."""
    period = f"{ts(stats.since, 'D')} to {ts(stats.until, 'D')}"
    lines = [
        f"**{shown(stats.group.name)}**: the last {stats.weeks} week"
        f"{'s' if stats.weeks != 1 else ''} ({period}). Only you can see this.",
        f"• Sessions held: {len(stats.sessions)}",
    ]
    average = stats.average_attendance
    if average is None:
        lines.append("• Average attendance: no attendance taken yet (`/session attendance`)")
    else:
        lines.append(
            f"• Average attendance: {_number(average)} per session (over the {stats.recorded} "
            f"session{'s' if stats.recorded != 1 else ''} with attendance taken)"
        )
    lines.append(f"• Members who attended at least once: {stats.attended_once}")
    if stats.retention is None:
        lines.append("• Retention: nobody joined in this period")
    else:
        lines.append(
            f"• Retention: {stats.retained} of the {stats.joined} who joined in this period "
            f"are still members ({stats.retention:.0%})"
        )
    capacity = stats.group.capacity
    lines.append(f"• Seats: {capacity}" if capacity is not None else "• Seats: no limit")
    return clip("\n".join(lines), MESSAGE_MAX)


def chart_alt_text(stats: GroupStats) -> str:
    """The image's description (Discord's alt text), without the group's name."""
    s = stats.sessions
    if not s:
        return "No sessions in this period."
    replies = [x.going + x.maybe for x in s]
    came = [x.attended for x in s]
    seats = (
        f" A dashed line marks the {stats.group.capacity} seats."
        if stats.group.capacity is not None
        else ""
    )
    text = (
        f"Bar chart of {len(s)} sessions from {s[0].day.isoformat()} to {s[-1].day.isoformat()}: "
        f"for each, Going and Maybe replies stacked ({min(replies)} to {max(replies)}) beside "
        f"the number who attended ({min(came)} to {max(came)}).{seats}"
    )
    return clip(text, ALT_TEXT_MAX)


def per_session_embed(stats: GroupStats) -> discord.Embed:
    """The chart as text: one line per session, newest last (a text alternative)."""
    lines = [
        f"{x.day.strftime('%b %d, %Y')}: going {x.going}, maybe {x.maybe}, attended {x.attended}"
        for x in stats.sessions
    ]
    body = ""
    for n, line in enumerate(lines):
        more = f"\n…and {len(lines) - n} more."
        if len(body) + len(line) + 1 + len(more) > TABLE_MAX:
            body += more
            break
        body = f"{body}\n{line}" if body else line
    return discord.Embed(
        title="Per session (the chart as text)", description=body or "No sessions.", colour=CALM
    )
