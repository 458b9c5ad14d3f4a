"""What Discord's Events panel shows for a group's next session: the event's text and time,
the recurrence rule when Discord can express the series truthfully, and a fingerprint of what
was sent. Pure: no Discord, database or clock (the syncing is scheduled_events.py).

Privacy: an event says that a group meets and when, never who belongs to it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from familybot import i18n
from familybot.i18n import _, lazy_gettext
from familybot.models import Group, OccurrenceOverride, SessionSeries
from familybot.models.events import EventRecurrence, EventSpec
from familybot.models.sessions import Occurrence
from familybot.services.reminders.rules import rule_of
from familybot.services.sessions.recurrence import Repeat, monthly_byday, occurrences

NAME_MAX = 100
DESCRIPTION_MAX = 1000
LOCATION = lazy_gettext("Private group channel on this server")

# How far ahead a recurring event must show exactly the sessions the bot means.
RECURRENCE_CHECK = timedelta(days=370)


def discord_recurrence(
    series: SessionSeries,
    overrides: dict[str, OccurrenceOverride],
    first: Occurrence,
) -> EventRecurrence | None:
    """The Discord recurrence rule that shows this series truthfully from ``first`` on, or
    None when Discord can't express it (then the Events panel shows the next session only).

    Discord accepts weekly on one day (every week or every other week) and monthly on the
    nth (1-4) weekday; an application can't set an end (`end`/`count`), and Discord repeats
    an event at a fixed UTC time. So: no `until`, no "last <weekday>", no cancelled or moved
    occurrence still ahead, and over the next year Discord's expansion (fixed UTC steps)
    must land on exactly the bot's occurrences: a zone that changes its clocks within that
    year (most of Europe and North America) is mirrored one session at a time.
    """
    rule = rule_of(series)
    if rule.repeat is Repeat.ONCE or rule.until_local is not None:
        return None
    if any(
        key >= first.key or (o.new_start is not None and o.new_start >= first.start_utc)
        for key, o in overrides.items()
    ):
        return None  # a cancel or move still ahead: Discord's exceptions can't be trusted
    start = first.start_utc.astimezone(UTC)
    if rule.repeat is Repeat.MONTHLY:
        _day, local_n = monthly_byday(rule.first_local, rule.monthly_week)
        n = (start.day - 1) // 7 + 1
        if local_n == -1 or n > 4:
            return None
        recurrence = EventRecurrence(monthly=True, interval=1, weekday=start.weekday(), n=n)
    else:
        interval = 2 if rule.repeat is Repeat.BIWEEKLY else 1
        recurrence = EventRecurrence(monthly=False, interval=interval, weekday=start.weekday())
    wanted = [o.start_utc for o in occurrences(rule, start, start + RECURRENCE_CHECK)]
    if wanted != discord_expansion(recurrence, start, start + RECURRENCE_CHECK):
        return None
    return recurrence


def discord_expansion(rule: EventRecurrence, start: datetime, end: datetime) -> list[datetime]:
    """The instants Discord shows for ``rule`` from ``start`` (UTC, fixed time of day)."""
    found: list[datetime] = []
    if not rule.monthly:
        step = timedelta(days=7 * rule.interval)
        at = start
        while at < end:
            found.append(at)
            at += step
        return found
    year, month = start.year, start.month
    while True:
        first = start.replace(year=year, month=month, day=1)
        day = first + timedelta(days=(rule.weekday - first.weekday()) % 7)
        day += timedelta(days=7 * ((rule.n or 1) - 1))
        if day >= end:
            return found
        if day.month == month and day >= start:
            found.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def event_spec(
    group: Group,
    series: SessionSeries,
    occurrence: Occurrence,
    recurrence: EventRecurrence | None = None,
) -> EventSpec:
    """What the Events panel shows: the group, the session and its time; never any names.
    In the server's language (the panel is the whole server's)."""
    with i18n.using(i18n.for_guild(group.guild_id)):
        description = _(
            "A session of {group}. Members: see the group's private channel. "
            "Not a member yet? Join with /group join. "
            "(Marking yourself Interested here is visible to others on this server.)"
        ).format(group=group.name)
        location = str(LOCATION)
    voice = series.voice_channel_id
    return EventSpec(
        name=f"{group.name}: {series.title}"[:NAME_MAX],
        description=description[:DESCRIPTION_MAX],
        start=occurrence.start_utc,
        end=occurrence.end_utc,
        channel_id=voice,
        location=None if voice else location,
        recurrence=recurrence,
    )


def fingerprint(spec: EventSpec) -> str:
    """Of what was sent. A recurring event's start rolls on by itself after each session,
    so its fingerprint holds the rule and the time of day, not the date."""
    rec = spec.recurrence
    start: object = int(spec.start.timestamp())
    end: object = int(spec.end.timestamp())
    if rec is not None:
        start = (spec.start.astimezone(UTC).time().isoformat(), rec)
        end = int((spec.end - spec.start).total_seconds())
    text = "\x1f".join(
        str(part)
        for part in (
            spec.name,
            spec.description,
            start,
            end,
            spec.channel_id,
            spec.location,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]
