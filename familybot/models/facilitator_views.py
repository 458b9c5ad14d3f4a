"""What facilitators see of their group: attendance figures over time and who replied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from familybot.models import Group, SessionSeries
from familybot.models.sessions import Occurrence


@dataclass(frozen=True)
class RsvpRoster:
    series: SessionSeries
    group: Group
    occurrence: Occurrence
    going: list[int]
    maybe: list[int]
    cant: list[int]
    unanswered: list[int]
    # Replies from people who have since left the group (not listed).
    former: int = 0


@dataclass(frozen=True)
class SessionFigures:
    series_id: int
    key: str
    title: str
    start_utc: datetime
    day: date  # the local date in the series' zone
    going: int
    maybe: int
    cant: int
    attended: int


@dataclass(frozen=True)
class GroupStats:
    group: Group
    weeks: int
    since: datetime
    until: datetime
    sessions: list[SessionFigures]
    # Sessions with at least one person marked present; the average is over these only,
    # so a session whose attendance nobody took doesn't count as an empty room.
    recorded: int
    attended_once: int
    joined: int
    retained: int
    total_attendance: int = 0

    @property
    def average_attendance(self) -> float | None:
        return self.total_attendance / self.recorded if self.recorded else None

    @property
    def retention(self) -> float | None:
        return self.retained / self.joined if self.joined else None
