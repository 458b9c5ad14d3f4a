"""Typed rows. Repositories return these; services and cogs never see raw SQL rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


def to_unix(instant: datetime) -> int:
    return int(instant.timestamp())


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class JoinMode(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"


class GroupStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class MembershipStatus(StrEnum):
    MEMBER = "member"
    WAITLISTED = "waitlisted"
    PENDING = "pending"


@dataclass(frozen=True)
class GuildSettings:
    guild_id: int
    facilitator_role_id: int | None = None
    modlog_channel_id: int | None = None
    alerts_channel_id: int | None = None
    timezone: str | None = None
    crisis_region: str | None = None
    scheduled_events: bool = False  # mirror sessions in Discord's Events panel
    safety_watch: bool = False  # crisis phrases in group channels -> DM + alert (opt-in)
    automod: bool = False  # remove invite links and mass mentions in group channels (opt-in)
    language: str = "en"  # for what goes to its channels (/setup language)


@dataclass(frozen=True)
class WelcomePanel:
    """Where `/setup welcome` posted a server's start-here panel."""

    guild_id: int
    channel_id: int
    message_id: int


@dataclass(frozen=True)
class Group:
    id: int
    guild_id: int
    name: str
    description: str
    focus: str
    capacity: int | None
    join_mode: JoinMode
    guidelines: str
    guidelines_version: int
    role_id: int | None
    channel_id: int | None
    status: GroupStatus
    created_by: int
    created_at: datetime
    archived_at: datetime | None
    reminder_offsets: tuple[int, ...] = (1440, 60)  # minutes before a session

    @property
    def is_active(self) -> bool:
        return self.status is GroupStatus.ACTIVE


@dataclass(frozen=True)
class Membership:
    id: int
    group_id: int
    user_id: int
    status: MembershipStatus
    consent_version: int
    consented_at: datetime
    requested_at: datetime
    joined_at: datetime | None


@dataclass(frozen=True)
class JoinReview:
    """Someone whose next join goes to the facilitators first (removed, or denied before)."""

    group_id: int
    user_id: int
    removed_at: datetime | None
    denied_at: datetime | None


@dataclass(frozen=True)
class GroupFacilitator:
    group_id: int
    user_id: int
    added_by: int
    added_at: datetime


class SeriesStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    ENDED = "ended"


class Rsvp(StrEnum):
    GOING = "going"
    MAYBE = "maybe"
    NO = "no"


class LedgerState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    UNDELIVERABLE = "undeliverable"
    FAILED = "failed"


@dataclass(frozen=True)
class SessionSeries:
    id: int
    group_id: int
    guild_id: int
    title: str
    tz: str
    first_local: datetime  # naive local wall time
    repeat: str
    duration_minutes: int
    voice_channel_id: int | None
    status: SeriesStatus
    created_by: int
    planned_until: datetime
    next_due: datetime | None
    until_local: datetime | None = None  # naive local, inclusive; None: no end
    monthly_week: int | None = None  # 1..4 or -1 (last); None: from the first date
    previous_series_id: int | None = None  # the series this one continues after an edit


@dataclass(frozen=True)
class OccurrenceOverride:
    series_id: int
    occurrence_key: str
    status: str  # 'cancelled' | 'moved'
    new_start: datetime | None
    reason: str | None


@dataclass(frozen=True)
class RsvpCounts:
    going: int = 0
    maybe: int = 0
    no: int = 0


@dataclass(frozen=True)
class MemberPrefs:
    user_id: int
    timezone: str | None = None
    dm_reminders: bool = False
    dm_offsets: tuple[int, ...] | None = None


@dataclass(frozen=True)
class LedgerRow:
    id: int
    series_id: int
    occurrence_key: str
    occurrence_start: datetime
    offset_minutes: int
    target: str
    due_at: datetime
    state: LedgerState
    attempts: int
    attempt_at: datetime | None
    message_id: int | None
    late: bool
    first_attempt_at: datetime | None = None

    @property
    def dm_user_id(self) -> int | None:
        return int(self.target[3:]) if self.target.startswith("dm:") else None


class ResourceStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETIRED = "retired"


@dataclass(frozen=True)
class Resource:
    """One item of the vetted resource library. All text in it is user-supplied."""

    id: int
    guild_id: int
    title: str
    url: str
    category: str
    description: str
    region: str
    language: str
    audience: str
    status: ResourceStatus
    suggested_by: int | None
    suggested_at: datetime
    vetted_by: int | None
    vetted_at: datetime | None
    review_due_at: datetime | None
    decision_reason: str | None
    link_failures: int = 0
    flagged_at: datetime | None = None
