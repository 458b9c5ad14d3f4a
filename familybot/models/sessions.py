"""Sessions' types: one occurrence of a series, and what scheduling, editing and listing
sessions return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from familybot.models import Group, Rsvp, RsvpCounts, SessionSeries


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence of a series.

    ``key`` is the nominal local date (``YYYY-MM-DD``): stable across DST, used to
    address a single occurrence. ``start_utc`` / ``end_utc`` are aware UTC instants.
    """

    key: str
    start_utc: datetime
    end_utc: datetime


@dataclass(frozen=True)
class UpcomingOccurrence:
    series: SessionSeries
    group: Group
    occurrence: Occurrence
    counts: RsvpCounts
    my_rsvp: Rsvp | None
    moved: bool


@dataclass(frozen=True)
class ScheduleOutcome:
    series: SessionSeries
    group: Group
    first: Occurrence
    rule_words: str  # the rule in words (series_rules.describe_rule)
    # The "last Thursday" trap: the first date is both the 4th and the last of its weekday
    # and no week was given, so the series means the 4th; the reply says so.
    fourth_or_last: bool = False


@dataclass(frozen=True)
class EditOutcome:
    series: SessionSeries  # the new series, from the next occurrence on
    group: Group
    rule_words: str
    first: Occurrence | None
    told: int
    not_reached: int
    dropped: int  # upcoming sessions that no longer take place under the new rule


@dataclass(frozen=True)
class ChangeOutcome:
    series: SessionSeries
    group: Group
    occurrence: Occurrence | None  # None: the whole series
    new_start: datetime | None
    told: int
    not_reached: int


@dataclass(frozen=True)
class RsvpOutcome:
    series: SessionSeries
    group: Group
    occurrence: Occurrence
    response: Rsvp
    counts: RsvpCounts


@dataclass(frozen=True)
class AttendanceSheet:
    series: SessionSeries
    group: Group
    occurrence: Occurrence
    member_ids: list[int]
    present_ids: list[int]
