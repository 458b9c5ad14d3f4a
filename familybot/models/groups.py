"""Groups' result types: joining, deciding, listing and rosters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from familybot.models import Group


class JoinResult(StrEnum):
    SEATED = "seated"
    WAITLISTED = "waitlisted"
    PENDING = "pending"


@dataclass(frozen=True)
class JoinOutcome:
    result: JoinResult
    group: Group
    position: int | None = None
    # Sent to the facilitators because of an earlier removal or denial, not the join mode.
    reviewed: bool = False


@dataclass(frozen=True)
class GroupListPage:
    summaries: list[GroupSummary]
    page: int  # 0-based
    pages: int
    total: int


@dataclass(frozen=True)
class GroupSummary:
    group: Group
    seats_taken: int
    next_session: datetime | None

    @property
    def seats_left(self) -> int | None:
        if self.group.capacity is None:
            return None
        return max(0, self.group.capacity - self.seats_taken)


@dataclass(frozen=True)
class RosterEntry:
    user_id: int
    since: datetime | None
    attended: int = 0
    sessions: int = 0


@dataclass(frozen=True)
class Roster:
    group: Group
    members: list[RosterEntry]
    waitlisted: list[RosterEntry]
    pending: list[RosterEntry]
    facilitator_ids: list[int]


@dataclass(frozen=True)
class LeaveOutcome:
    group: Group
    promoted_user_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    group: Group
    user_id: int
    outcome: JoinOutcome | None  # None when denied
    already_decided: bool = False


@dataclass(frozen=True)
class GroupSpace:
    """A group's private channel. Access is per person (a member permission overwrite on the
    channel), never a role: roles show on profiles, overwrites show to nobody outside."""

    channel_id: int
