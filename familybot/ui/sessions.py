"""Reminder cards, RSVP buttons and the attendance picker, as drawn. Counts only, never
names. Presses are answered in cogs/sessions_components.py (same custom_id templates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import discord

from familybot.models import Rsvp, RsvpCounts
from familybot.models.reminders import ReminderCard
from familybot.models.sessions import EditOutcome, ScheduleOutcome, UpcomingOccurrence
from familybot.ui.components import PostedView
from familybot.ui.embeds import CALM
from familybot.ui.text import channel_mention, clip, defuse, shown, ts, when

REPLIES_FIELD = "Replies"
RSVP_LABELS = {Rsvp.GOING: "Going", Rsvp.MAYBE: "Maybe", Rsvp.NO: "Can't make it"}
RSVP_STYLES = {
    Rsvp.GOING: discord.ButtonStyle.success,
    Rsvp.MAYBE: discord.ButtonStyle.primary,
    Rsvp.NO: discord.ButtonStyle.secondary,
}


def counts_text(going: int, maybe: int, no: int) -> str:
    return f"Going: {going} · Maybe: {maybe} · Can't make it: {no}"


def reminder_embed(card: ReminderCard) -> discord.Embed:
    minutes = int((card.end - card.start).total_seconds() // 60)
    lines = [f"**{clip(defuse(card.group_name), 100)}** meets {when(card.start)}."]
    lines.append(f"It runs for {minutes} minutes, until {ts(card.end, 't')}.")
    if card.voice_channel_id:
        lines.append(f"Join in {channel_mention(card.voice_channel_id)}.")
    if card.late:
        lines.append("_This reminder is late: I was offline when it was due. Sorry about that._")
    embed = discord.Embed(
        title=clip(f"Reminder: {defuse(card.title)}", 256),
        description="\n".join(lines),
        colour=CALM,
    )
    embed.add_field(
        name=REPLIES_FIELD, value=counts_text(card.going, card.maybe, card.no), inline=False
    )
    embed.set_footer(text="Let the group know if you're coming. Only the numbers are shown.")
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
        label=RSVP_LABELS[response],
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
        Rsvp.GOING: "Thank you, you're down as **going**. See you there! 💙",
        Rsvp.MAYBE: "Thank you, you're down as **maybe**. Come if you can.",
        Rsvp.NO: "Thank you for letting the group know. You're down as **can't make it**; take care.",
    }[response]
    return thanks + f"\nSession: {when(start_utc)}. You can change your reply any time."


def with_counts(message: discord.Message | None, counts: RsvpCounts) -> discord.Embed | None:
    """The reminder card's embed with the new numbers, or None if it is not a card."""
    if message is None or not message.embeds:
        return None
    embed = message.embeds[0].copy()
    for index, f in enumerate(embed.fields):
        if f.name == REPLIES_FIELD:
            embed.set_field_at(
                index,
                name=REPLIES_FIELD,
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
        placeholder="Choose who attended",
        min_values=0,
        max_values=25,
        default_values=[discord.Object(uid, type=discord.User) for uid in (present or [])[:25]],
    )


def attendance_saved_text(key: str, marked: int, ignored: int) -> str:
    note = f" {ignored} chosen who aren't members of the group were left out." if ignored else ""
    return f"Attendance saved for {key}: {marked} present.{note} You can change it any time."


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
            line += " · _moved_"
        if show_mine and item.my_rsvp is not None:
            line += f" · you: {RSVP_LABELS[item.my_rsvp].lower()}"
        lines.append(line)
    embed.description = clip("\n\n".join(lines), 4096)
    return embed


def my_schedule_embed(items: list[UpcomingOccurrence], tz: str | None) -> discord.Embed:
    """`/my schedule` (and the start-here panel's My sessions)."""
    embed = upcoming_embed(
        "Your sessions",
        items,
        empty="Nothing in the next two weeks. `/group list` shows groups you could join.",
        show_mine=True,
    )
    embed.set_footer(
        text=f"Times show in your device's time zone{f' (you set {tz})' if tz else ''}."
    )
    return embed


def schedule_reply(outcome: ScheduleOutcome) -> str:
    """`/session schedule`'s confirmation: the rule in words, the first session, the trap."""
    text = (
        f"Scheduled **{shown(outcome.series.title)}** for **{shown(outcome.group.name)}**: "
        f"{outcome.rule_words}. First session: {when(outcome.first.start_utc)}. "
        "Members will be reminded before each one."
    )
    if outcome.fourth_or_last:
        day = outcome.series.first_local.strftime("%A")
        text += (
            f"\n\nNote: that date is both the 4th and the last {day} of its month, so the "
            f"series meets on the **4th {day}**. If you meant the last {day} of each month, "
            "change it with `/session edit` and `week: last` (or schedule again with "
            "`week: last`)."
        )
    return text


def edit_reply(outcome: EditOutcome) -> str:
    """`/session edit`'s confirmation: the new rule in words and the next session."""
    text = (
        f"Changed **{shown(outcome.series.title)}** ({shown(outcome.group.name)}). From now on "
        f"it meets {outcome.rule_words}."
    )
    if outcome.first is not None:
        text += f" Next session: {when(outcome.first.start_utc)}."
    if outcome.dropped:
        text += (
            f" {outcome.dropped} upcoming session{'s' if outcome.dropped != 1 else ''} of the old "
            "plan no longer take place."
        )
    return text + " Past sessions and their attendance stay as they were."
