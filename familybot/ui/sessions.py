"""Reminder cards, RSVP buttons and the attendance picker, as drawn. Counts only, never
names. Presses are answered in cogs/sessions_components.py (same custom_id templates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import discord

from familybot import i18n
from familybot.i18n import _, lazy_pgettext, ngettext, pgettext
from familybot.models import Rsvp, RsvpCounts
from familybot.models.reminders import ReminderCard
from familybot.models.sessions import EditOutcome, ScheduleOutcome, UpcomingOccurrence
from familybot.ui.components import PostedView
from familybot.ui.embeds import CALM
from familybot.ui.text import channel_mention, clip, defuse, shown, ts, when

REPLIES_FIELD = lazy_pgettext("embed-field-name", "Replies")
RSVP_LABELS = {
    Rsvp.GOING: lazy_pgettext("button", "Going"),
    Rsvp.MAYBE: lazy_pgettext("button", "Maybe"),
    Rsvp.NO: lazy_pgettext("button", "Can't make it"),
}
RSVP_STYLES = {
    Rsvp.GOING: discord.ButtonStyle.success,
    Rsvp.MAYBE: discord.ButtonStyle.primary,
    Rsvp.NO: discord.ButtonStyle.secondary,
}


def counts_text(going: int, maybe: int, no: int) -> str:
    return _("Going: {going} · Maybe: {maybe} · Can't make it: {no}").format(
        going=going, maybe=maybe, no=no
    )


def reminder_embed(card: ReminderCard) -> discord.Embed:
    minutes = int((card.end - card.start).total_seconds() // 60)
    lines = [
        _("**{group}** meets {when}.").format(
            group=clip(defuse(card.group_name), 100), when=when(card.start)
        )
    ]
    lines.append(
        ngettext(
            "It runs for {minutes} minute, until {end}.",
            "It runs for {minutes} minutes, until {end}.",
            minutes,
        ).format(minutes=minutes, end=ts(card.end, "t"))
    )
    if card.voice_channel_id:
        lines.append(_("Join in {channel}.").format(channel=channel_mention(card.voice_channel_id)))
    if card.late:
        lines.append(_("_This reminder is late: I was offline when it was due. Sorry about that._"))
    embed = discord.Embed(
        title=clip(
            pgettext("embed-title", "Reminder: {title}").format(title=defuse(card.title)), 256
        ),
        description="\n".join(lines),
        colour=CALM,
    )
    embed.add_field(
        name=str(REPLIES_FIELD), value=counts_text(card.going, card.maybe, card.no), inline=False
    )
    embed.set_footer(
        text=pgettext(
            "embed-footer", "Let the group know if you're coming. Only the numbers are shown."
        )
    )
    return embed


RSVP_TEMPLATE = (
    r"fb:rsvp:(?P<series>\d+):(?P<key>\d{4}-\d{2}-\d{2}):(?P<response>going|maybe|no)"
    r"(?::(?P<ledger>\d+))?"
)
ATTENDANCE_TEMPLATE = r"fb:attend:(?P<series>\d+):(?P<key>\d{4}-\d{2}-\d{2})"


def rsvp_button(
    series_id: int, key: str, response: Rsvp, ledger_id: int | None
) -> discord.ui.Button[Any]:
    """Going / Maybe / Can't make it. The ledger id lets a restarted bot find what it sent."""
    suffix = f":{ledger_id}" if ledger_id is not None else ""
    return discord.ui.Button(
        label=str(RSVP_LABELS[response]),
        style=RSVP_STYLES[response],
        custom_id=f"fb:rsvp:{series_id}:{key}:{response.value}{suffix}",
    )


def rsvp_view(series_id: int, key: str, ledger_id: int | None = None) -> discord.ui.View:
    view = PostedView()
    for response in Rsvp:
        view.add_item(rsvp_button(series_id, key, response, ledger_id))
    return view


def rsvp_thanks(response: Rsvp, start_utc: datetime) -> str:
    """The private answer to an RSVP press."""
    thanks = {
        Rsvp.GOING: _("Thank you, you're down as **going**. See you there! 💙"),
        Rsvp.MAYBE: _("Thank you, you're down as **maybe**. Come if you can."),
        Rsvp.NO: _(
            "Thank you for letting the group know. You're down as **can't make it**; take care."
        ),
    }[response]
    return (
        thanks
        + "\n"
        + _("Session: {when}. You can change your reply any time.").format(when=when(start_utc))
    )


def with_counts(message: discord.Message | None, counts: RsvpCounts) -> discord.Embed | None:
    """The reminder card's embed with the new numbers, or None if it is not a card. The
    numbers are written in the card's own language (everyone reads them), whoever pressed."""
    if message is None or not message.embeds:
        return None
    embed = message.embeds[0].copy()
    for index, f in enumerate(embed.fields):
        for language in i18n.LANGUAGES:
            with i18n.using(language):
                if f.name != str(REPLIES_FIELD):
                    continue
                embed.set_field_at(
                    index,
                    name=str(REPLIES_FIELD),
                    value=counts_text(counts.going, counts.maybe, counts.no),
                    inline=False,
                )
                return embed
    return None


def attendance_select(
    series_id: int, key: str, present: list[int] | None = None
) -> discord.ui.UserSelect[Any]:
    """Facilitators pick who attended one occurrence."""
    return discord.ui.UserSelect(
        custom_id=f"fb:attend:{series_id}:{key}",
        placeholder=pgettext("select-placeholder", "Choose who attended"),
        min_values=0,
        max_values=25,
        default_values=[discord.Object(uid, type=discord.User) for uid in (present or [])[:25]],
    )


def attendance_saved_text(key: str, marked: int, ignored: int) -> str:
    text = _("Attendance saved for {date}: {marked} present.").format(date=key, marked=marked)
    if ignored:
        text += " " + ngettext(
            "{ignored} person chosen who isn't a member of the group was left out.",
            "{ignored} people chosen who aren't members of the group were left out.",
            ignored,
        ).format(ignored=ignored)
    return text + " " + _("You can change it any time.")


def attendance_view(series_id: int, key: str, present: list[int]) -> discord.ui.View:
    view = PostedView()
    view.add_item(attendance_select(series_id, key, present))
    return view


def upcoming_embed(
    title: str, items: list[UpcomingOccurrence], *, empty: str, show_mine: bool
) -> discord.Embed:
    embed = discord.Embed(title=title, colour=CALM)
    if not items:
        embed.description = empty
        return embed
    lines = []
    for item in items:
        occ = item.occurrence
        line = (
            f"**{clip(defuse(item.series.title), 80)}** · {clip(defuse(item.group.name), 60)}\n"
            f"{when(occ.start_utc)} · {counts_text(item.counts.going, item.counts.maybe, item.counts.no)}"
        )
        if item.moved:
            line += " · _" + _("moved") + "_"
        if show_mine and item.my_rsvp is not None:
            line += " · " + _("you: {reply}").format(reply=str(RSVP_LABELS[item.my_rsvp]).lower())
        lines.append(line)
    embed.description = clip("\n\n".join(lines), 4096)
    return embed


def my_schedule_embed(items: list[UpcomingOccurrence], tz: str | None) -> discord.Embed:
    """`/my schedule` (and the start-here panel's My sessions)."""
    embed = upcoming_embed(
        pgettext("embed-title", "Your sessions"),
        items,
        empty=_("Nothing in the next two weeks. `/group list` shows groups you could join."),
        show_mine=True,
    )
    footer = (
        pgettext("embed-footer", "Times show in your device's time zone (you set {tz}).").format(
            tz=tz
        )
        if tz
        else pgettext("embed-footer", "Times show in your device's time zone.")
    )
    embed.set_footer(text=footer)
    return embed


def schedule_reply(outcome: ScheduleOutcome) -> str:
    """`/session schedule`'s confirmation: the rule in words, the first session, the trap."""
    text = _(
        "Scheduled **{title}** for **{group}**: {rule}. First session: {when}. "
        "Members will be reminded before each one."
    ).format(
        title=shown(outcome.series.title),
        group=shown(outcome.group.name),
        rule=outcome.rule_words,
        when=when(outcome.first.start_utc),
    )
    if outcome.fourth_or_last:
        day = i18n.format_date(outcome.series.first_local, "EEEE")
        text += "\n\n" + _(
            "Note: that date is both the 4th and the last {weekday} of its month, so the "
            "series meets on the **4th {weekday}**. If you meant the last {weekday} of each "
            "month, change it with `/session edit` and `week: last` (or schedule again with "
            "`week: last`)."
        ).format(weekday=day)
    return text


def edit_reply(outcome: EditOutcome) -> str:
    """`/session edit`'s confirmation: the new rule in words and the next session."""
    text = _("Changed **{title}** ({group}). From now on it meets {rule}.").format(
        title=shown(outcome.series.title), group=shown(outcome.group.name), rule=outcome.rule_words
    )
    if outcome.first is not None:
        text += " " + _("Next session: {when}.").format(when=when(outcome.first.start_utc))
    if outcome.dropped:
        text += " " + ngettext(
            "{n} upcoming session of the old plan no longer takes place.",
            "{n} upcoming sessions of the old plan no longer take place.",
            outcome.dropped,
        ).format(n=outcome.dropped)
    return text + " " + _("Past sessions and their attendance stay as they were.")
