"""What services and the Discord adapters (familybot/discord/) pass each other.

Each feature declares what it asks of Discord as its own small Protocol beside its service
(e.g. GroupsPort in services/groups.py); these are the values those ports carry. Services
stay free of discord.py; tests give them a recording fake instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Notice:
    """A short private message to one person: rendered as an embed in a DM."""

    title: str
    body: str


@dataclass(frozen=True)
class ReminderCard:
    """What a reminder shows: no names, only counts."""

    ledger_id: int
    series_id: int
    occurrence_key: str
    group_name: str
    title: str
    start: datetime
    end: datetime
    voice_channel_id: int | None
    going: int
    maybe: int
    no: int
    late: bool


@dataclass(frozen=True)
class ReminderTarget:
    """Exactly one of the two: a group's channel, or a person's DMs."""

    channel_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class Delivery:
    ok: bool
    message_id: int | None = None
    # True when trying again cannot help (DMs closed, channel gone): do not retry.
    permanent: bool = False


@dataclass(frozen=True)
class GroupSpace:
    """A group's private channel. Access is per person (a member permission overwrite on the
    channel), never a role: roles show on profiles, overwrites show to nobody outside."""

    channel_id: int


@dataclass(frozen=True)
class PurgeResult:
    removed: int
    too_old: int


@dataclass(frozen=True)
class ModLogEntry:
    """A case as the mod log shows it: ids (rendered as mentions), never names."""

    number: int
    action: str
    actor_id: int  # 0: FamilyBot itself
    target_id: int | None
    channel_id: int | None
    reason: str
    status: str
    created_at: datetime
    detail: str | None = None
    dm: str | None = None
    duration_seconds: int | None = None
    expires_at: datetime | None = None
    heading: str | None = None  # e.g. "Reason updated"


@dataclass(frozen=True)
class EventRecurrence:
    """How a mirrored event repeats on Discord's side (the shapes Discord accepts).

    ``weekday`` is 0 (Monday) .. 6 of the first start *in UTC* (Discord repeats at a fixed
    UTC time); ``n`` is 1..4 for a monthly "nth weekday", None for weekly.
    """

    monthly: bool
    interval: int  # weekly: 1 or 2 (every other week); monthly: 1
    weekday: int
    n: int | None = None


@dataclass(frozen=True)
class EventSpec:
    """One session as a guild scheduled event: a voice channel, or else a location text.
    With ``recurrence``, the event stands for the whole series from ``start`` on."""

    name: str
    description: str
    start: datetime
    end: datetime
    channel_id: int | None = None
    location: str | None = None
    recurrence: EventRecurrence | None = None


@dataclass(frozen=True)
class PrivateContact:
    """What opens a private space between one member and the facilitators: ids only."""

    guild_id: int
    channel_id: int  # where it was asked for: the thread's parent when a thread is possible
    name: str  # e.g. "private-report-12": says nothing about anyone
    number: int
    kind: str  # 'report' | 'ask'
    member_id: int
    facilitator_role_id: int
    category: str | None = None  # reports: at_risk | unkind | spam | other
    reported_author_id: int | None = None
    reported_message_id: int | None = None  # in channel_id
    question: str | None = None  # /ask: the member's own words, posted with mentions off


@dataclass(frozen=True)
class PrivateSpace:
    channel_id: int
    is_thread: bool  # False: a private text channel stood in for the thread


@dataclass(frozen=True)
class ContactAlert:
    guild_id: int
    number: int
    kind: str
    category: str | None
    space_id: int
