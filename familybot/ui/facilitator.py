"""How the facilitator's views look: /session rsvps embeds, /group stats text and chart alt
text. Rendering only; everything here is sent ephemerally with mentions switched off."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from familybot import i18n
from familybot.i18n import _, ngettext, pgettext
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
    title = clip(pgettext("embed-title", "Replies: {title}").format(title=roster.series.title), 256)
    start = roster.occurrence.start_utc
    summary = f"**{shown(roster.group.name)}** · {ts(start, 'F')} ({ts(start, 'R')})\n" + _(
        "Going {going} · Maybe {maybe} · Can't make it {no} · Not answered {unanswered}"
    ).format(
        going=len(roster.going),
        maybe=len(roster.maybe),
        no=len(roster.cant),
        unanswered=len(roster.unanswered),
    )
    if roster.former:
        summary += "\n" + ngettext(
            "{n} reply from someone who has since left the group isn't listed.",
            "{n} replies from people who have since left the group aren't listed.",
            roster.former,
        ).format(n=roster.former)
    summary += "\n" + _("Only you can see this.")
    fields: list[tuple[str, str]] = []
    for label, ids in (
        (pgettext("embed-field-name", "Going ({n})"), roster.going),
        (pgettext("embed-field-name", "Maybe ({n})"), roster.maybe),
        (pgettext("embed-field-name", "Can't make it ({n})"), roster.cant),
        (pgettext("embed-field-name", "Not answered yet ({n})"), roster.unanswered),
    ):
        chunks = _chunks(ids) or [pgettext("embed-field", "Nobody")]
        for n, chunk in enumerate(chunks):
            name = label.format(n=len(ids))
            if n:
                name = pgettext("embed-field-name", "{name}, continued").format(name=name)
            fields.append((name, chunk))
    embeds = [discord.Embed(title=title, description=summary, colour=CALM)]
    for name, value in fields:
        embed = embeds[-1]
        if len(embed.fields) >= FIELDS_MAX or len(embed) + len(name) + len(value) > (
            EMBED_TOTAL_MAX
        ):
            embed = discord.Embed(
                title=clip(pgettext("embed-title", "{title} (continued)").format(title=title), 256),
                colour=CALM,
            )
            embeds.append(embed)
        embed.add_field(name=name, value=value, inline=False)
    return embeds


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _percent(value: float) -> str:
    """75% / 75 % (Babel's CLDR data for the current language)."""
    from babel.numbers import format_percent

    return str(format_percent(value, locale=i18n.current_language()))


def stats_text(stats: GroupStats) -> str:
    """The figures, in words: the message around the chart (or the CSV)."""
    lines = [
        ngettext(
            "**{group}**: the last {n} week ({since} to {until}). Only you can see this.",
            "**{group}**: the last {n} weeks ({since} to {until}). Only you can see this.",
            stats.weeks,
        ).format(
            group=shown(stats.group.name),
            n=stats.weeks,
            since=ts(stats.since, "D"),
            until=ts(stats.until, "D"),
        ),
        _("• Sessions held: {n}").format(n=len(stats.sessions)),
    ]
    average = stats.average_attendance
    if average is None:
        lines.append(_("• Average attendance: no attendance taken yet (`/session attendance`)"))
    else:
        lines.append(
            ngettext(
                "• Average attendance: {average} per session (over the {n} session with "
                "attendance taken)",
                "• Average attendance: {average} per session (over the {n} sessions with "
                "attendance taken)",
                stats.recorded,
            ).format(average=_number(average), n=stats.recorded)
        )
    lines.append(_("• Members who attended at least once: {n}").format(n=stats.attended_once))
    if stats.retention is None:
        lines.append(_("• Retention: nobody joined in this period"))
    else:
        lines.append(
            _(
                "• Retention: {retained} of the {joined} who joined in this period are still "
                "members ({percent})"
            ).format(
                retained=stats.retained,
                joined=stats.joined,
                percent=_percent(stats.retention),
            )
        )
    capacity = stats.group.capacity
    lines.append(
        _("• Seats: {n}").format(n=capacity) if capacity is not None else _("• Seats: no limit")
    )
    return clip("\n".join(lines), MESSAGE_MAX)


def chart_alt_text(stats: GroupStats) -> str:
    """The image's description (Discord's alt text), without the group's name."""
    s = stats.sessions
    if not s:
        return _("No sessions in this period.")
    replies = [x.going + x.maybe for x in s]
    came = [x.attended for x in s]
    text = ngettext(
        "Bar chart of {n} session from {first} to {last}: for each, Going and Maybe replies "
        "stacked ({replies_min} to {replies_max}) beside the number who attended "
        "({came_min} to {came_max}).",
        "Bar chart of {n} sessions from {first} to {last}: for each, Going and Maybe replies "
        "stacked ({replies_min} to {replies_max}) beside the number who attended "
        "({came_min} to {came_max}).",
        len(s),
    ).format(
        n=len(s),
        first=s[0].day.isoformat(),
        last=s[-1].day.isoformat(),
        replies_min=min(replies),
        replies_max=max(replies),
        came_min=min(came),
        came_max=max(came),
    )
    if stats.group.capacity is not None:
        text += " " + _("A dashed line marks the {n} seats.").format(n=stats.group.capacity)
    return clip(text, ALT_TEXT_MAX)


def per_session_embed(stats: GroupStats) -> discord.Embed:
    """The chart as text: one line per session, newest last (a text alternative)."""
    lines = [
        _("{date}: going {going}, maybe {maybe}, attended {attended}").format(
            date=i18n.format_date(x.day, "medium"),
            going=x.going,
            maybe=x.maybe,
            attended=x.attended,
        )
        for x in stats.sessions
    ]
    body = ""
    for n, line in enumerate(lines):
        more = "\n" + _("…and {n} more.").format(n=len(lines) - n)
        if len(body) + len(line) + 1 + len(more) > TABLE_MAX:
            body += more
            break
        body = f"{body}\n{line}" if body else line
    return discord.Embed(
        title=pgettext("embed-title", "Per session (the chart as text)"),
        description=body or _("No sessions."),
        colour=CALM,
    )
