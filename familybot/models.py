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
class GroupFacilitator:
    group_id: int
    user_id: int
    added_by: int
    added_at: datetime
