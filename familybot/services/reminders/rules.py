"""Which occurrences a series really has (after cancellations and moves), and who a
reminder goes to; shared by the planner, the dispatcher and the sessions feature."""

from __future__ import annotations

from datetime import datetime, timedelta

from familybot.models import (
    Group,
    OccurrenceOverride,
    SessionSeries,
)
from familybot.models.sessions import Occurrence
from familybot.services.sessions.recurrence import (
    Repeat,
    SeriesRule,
    next_occurrence,
    occurrences,
)

# Long CPU-only loops (planning, checking, handing over) give the event loop a turn this
# often, so no stretch holds it for long (issue 15: no stall over 50 ms).
YIELD_EVERY = 25

CHANNEL_TARGET = "channel"


def dm_target(user_id: int) -> str:
    return f"dm:{user_id}"


def rule_of(series: SessionSeries) -> SeriesRule:
    return SeriesRule(
        tz=series.tz,
        first_local=series.first_local,
        repeat=Repeat(series.repeat),
        duration_minutes=series.duration_minutes,
        until_local=series.until_local,
        monthly_week=series.monthly_week,
    )


def effective_occurrences(
    series: SessionSeries,
    overrides: dict[str, OccurrenceOverride],
    start: datetime,
    end: datetime,
) -> list[Occurrence]:
    """Occurrences starting in [start, end) after cancellations and moves."""
    rule = rule_of(series)
    duration = timedelta(minutes=series.duration_minutes)
    found = [o for o in occurrences(rule, start, end) if o.key not in overrides]
    for key, override in overrides.items():
        moved_here = override.new_start is not None and start <= override.new_start < end
        if override.status == "moved" and override.new_start is not None and moved_here:
            found.append(Occurrence(key, override.new_start, override.new_start + duration))
    found.sort(key=lambda o: o.start_utc)
    return found


def next_effective_start_after(
    series: SessionSeries, overrides: dict[str, OccurrenceOverride], after: datetime
) -> datetime | None:
    """The first effective occurrence start strictly after `after`."""
    rule = rule_of(series)
    candidate: datetime | None = None
    cursor = after
    for _ in range(60):  # skip over up to 60 cancelled/moved occurrences in a row
        occ = next_occurrence(rule, cursor)
        if occ is None:
            break
        if occ.key not in overrides:
            candidate = occ.start_utc
            break
        cursor = occ.start_utc
    for override in overrides.values():
        moved = override.new_start if override.status == "moved" else None
        if moved is not None and moved > after and (candidate is None or moved < candidate):
            candidate = moved
    return candidate


def targets_for(
    group: Group, subscribers: list[tuple[int, tuple[int, ...] | None]]
) -> list[tuple[str, int]]:
    """(target, offset) pairs: the group's channel at the group's offsets, DMs at each person's."""
    pairs = [(CHANNEL_TARGET, off) for off in group.reminder_offsets]
    for user_id, personal in subscribers:
        pairs += [(dm_target(user_id), off) for off in (personal or group.reminder_offsets)]
    return pairs
