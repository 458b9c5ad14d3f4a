"""`/session edit`: what an edit of a series' future means, as pure functions.

The model: an edit splits the series at the edit instant. The old series keeps every
occurrence that has started (its `until_local` becomes the last of them, and it ends), so
past attendance and replies stay where they are. A new series, linked to the old one
(`previous_series_id`), carries on from the next occurrence with the new rule.

Future occurrences of the old series are *paired* with occurrences of the new one: when
the cadence (repeat) stays, the nth upcoming old occurrence pairs with the nth new one
(so "the session on Tuesday 9th" becomes "the session on Wednesday 10th"); when the
repeat changes, only the next occurrence pairs with the new first one. What follows a
pair: replies (RSVPs), a cancellation or a move of that one occurrence (carried to its
partner; a moved one keeps its moved time), reminders already sent (never sent again for
the partner) and reminders still pending (moved to the partner). An old occurrence
without a partner (the new rule ends sooner) no longer takes place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from familybot.i18n import _
from familybot.models import OccurrenceOverride
from familybot.models.sessions import Occurrence
from familybot.services.sessions.recurrence import (
    Repeat,
    SeriesRule,
    monthly_byday,
    next_occurrence,
    occurrences,
    to_utc,
)

# Future occurrences looked at when pairing (replies and overrides further out are rare).
PAIR_WINDOW = timedelta(days=400)
MAX_PAIRS = 60
_PERIOD = {Repeat.WEEKLY: 7, Repeat.BIWEEKLY: 14, Repeat.ONCE: 7}


@dataclass(frozen=True)
class RuleChange:
    """What `/session edit` was asked to change (None: keep)."""

    weekday: int | None = None  # 0 = Monday
    start_time: time | None = None
    tz: str | None = None
    repeat: Repeat | None = None
    duration_minutes: int | None = None
    week: int | None = None
    until: datetime | None = None
    clear_until: bool = False  # "until: never" removes the end


@dataclass(frozen=True)
class Pair:
    old: Occurrence  # the old occurrence by its rule (before its own override)
    new_key: str
    new_rule_start: datetime  # the partner's start by the new rule


@dataclass(frozen=True)
class EditPlan:
    old_until: datetime  # naive local: the old series keeps occurrences up to here
    new_rule: SeriesRule
    pairs: list[Pair]
    unpaired: list[Occurrence]  # old future occurrences that no longer take place


class EditRefused(ValueError):
    """The edit can't be made; the message says why, kindly."""


def nth_weekday(year: int, month: int, weekday: int, week: int) -> date | None:
    """The ``week``-th (1..4) or last (-1) ``weekday`` of a month."""
    first = date(year, month, 1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    if week == -1:
        while (day + timedelta(days=7)).month == month:
            day += timedelta(days=7)
        return day
    day += timedelta(days=7 * (week - 1))
    return day if day.month == month else None


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _first_new_date(
    anchor: date,
    weekday: int,
    repeat: Repeat,
    week: int | None,
    start_time: time,
    tz: str,
    after: datetime,
) -> tuple[date, int | None]:
    """The new rule's first date: the new weekday nearest the anchor (monthly: in the
    anchor's month), moved on by whole periods until it starts after ``after``. Returns
    the date and the monthly week."""
    if repeat is Repeat.MONTHLY:
        n = week if week is not None else monthly_byday(anchor)[1]
        year, month = anchor.year, anchor.month
        for _month in range(24):
            day = nth_weekday(year, month, weekday, n)
            if day is not None and to_utc(datetime.combine(day, start_time), tz) > after:
                return day, n
            year, month = _next_month(year, month)
        raise EditRefused(_("I couldn't find a date for that rule in the next two years."))
    # The new day nearest to the next session (Tuesday -> Thursday is two days later,
    # Sunday -> Monday one day later, Tuesday -> Monday one day earlier).
    delta = (weekday - anchor.weekday()) % 7
    day = anchor + timedelta(days=delta - 7 if delta > 3 else delta)
    period = timedelta(days=_PERIOD[repeat])
    while to_utc(datetime.combine(day, start_time), tz) <= after:
        day += period
    return day, None


def plan_edit(old: SeriesRule, change: RuleChange, now: datetime) -> EditPlan:
    """Split ``old`` at ``now`` and describe the new series and the pairing."""
    open_old = SeriesRule(
        old.tz, old.first_local, old.repeat, old.duration_minutes, monthly_week=old.monthly_week
    )
    anchor_occ = next_occurrence(open_old, now)
    if anchor_occ is None:
        raise EditRefused(_("This session has already taken place, so there's nothing to change."))
    anchor = date.fromisoformat(anchor_occ.key)
    repeat = change.repeat or old.repeat
    if change.week is not None and repeat is not Repeat.MONTHLY:
        raise EditRefused(
            _(
                "The week option is for monthly sessions. Please leave it out, or choose "
                "repeat: monthly."
            )
        )
    tz = change.tz or old.tz
    start_time = change.start_time or old.first_local.time()
    weekday = change.weekday if change.weekday is not None else anchor.weekday()
    week = change.week
    if week is None and repeat is Repeat.MONTHLY and old.repeat is Repeat.MONTHLY:
        week = monthly_byday(old.first_local, old.monthly_week)[1]
    first_day, n = _first_new_date(anchor, weekday, repeat, week, start_time, tz, now)
    until = None if change.clear_until else (change.until or old.until_local)
    if until is not None and until.date() < first_day:
        raise EditRefused(
            _(
                "The end date {until} is before the next session under the new rule ({first}). "
                "Please choose a later end date."
            ).format(until=until.date().isoformat(), first=first_day.isoformat())
        )
    if repeat is Repeat.ONCE:
        until = None
    new_rule = SeriesRule(
        tz,
        datetime.combine(first_day, start_time),
        repeat,
        change.duration_minutes or old.duration_minutes,
        until_local=until,
        monthly_week=n,
    )
    # The old series keeps what has started.
    started = occurrences(old, now - PAIR_WINDOW, now + timedelta(microseconds=1))
    old_until = (
        datetime.fromisoformat(started[-1].key).replace(
            hour=old.first_local.hour, minute=old.first_local.minute
        )
        if started
        else old.first_local - timedelta(minutes=1)
    )
    upcoming = occurrences(old, now + timedelta(microseconds=1), now + PAIR_WINDOW)[:MAX_PAIRS]
    new_upcoming = occurrences(new_rule, now, now + PAIR_WINDOW + timedelta(days=40))
    if repeat is not old.repeat:
        count = min(1, len(upcoming), len(new_upcoming))
        pairs = [
            Pair(upcoming[i], new_upcoming[i].key, new_upcoming[i].start_utc) for i in range(count)
        ]
        return EditPlan(old_until, new_rule, pairs, upcoming[count:])
    # Same repeat: each session pairs with the new one of its own week (or fortnight, or
    # month), never the next one along: pairing by position would carry a cancellation or a
    # reply to the following week whenever the first new date falls in a later week.
    pairs = []
    unpaired = []
    taken: set[str] = set()
    for occ in upcoming:
        mine = date.fromisoformat(occ.key)
        same_period = [
            n
            for n in new_upcoming
            if n.key not in taken and _same_period(mine, date.fromisoformat(n.key), repeat)
        ]
        if not same_period:
            unpaired.append(occ)
            continue
        partner = min(same_period, key=lambda n: abs(date.fromisoformat(n.key) - mine))
        taken.add(partner.key)
        pairs.append(Pair(occ, partner.key, partner.start_utc))
    return EditPlan(old_until, new_rule, pairs, unpaired)


def _same_period(old_day: date, new_day: date, repeat: Repeat) -> bool:
    """Whether a new date stands in for an old one: within half a period of it (weekly:
    3 days either way), or in the same month for a monthly series."""
    if repeat is Repeat.MONTHLY:
        return (old_day.year, old_day.month) == (new_day.year, new_day.month)
    return abs((new_day - old_day).days) <= _PERIOD[repeat] // 2


def partner_start(pair: Pair, override: OccurrenceOverride | None) -> datetime | None:
    """When the partner takes place: None if cancelled; a moved one keeps its moved time."""
    if override is None:
        return pair.new_rule_start
    if override.status == "cancelled":
        return None
    return override.new_start


def old_start(pair: Pair, override: OccurrenceOverride | None) -> datetime | None:
    """When the old occurrence was to take place (after its own cancel or move)."""
    if override is None:
        return pair.old.start_utc
    if override.status == "cancelled":
        return None
    return override.new_start
