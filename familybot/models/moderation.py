"""Moderation types: cases, what the mod log shows, what a purge removed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from familybot.i18n import ngettext


@dataclass(frozen=True)
class PurgeResult:
    removed: int
    too_old: int


@dataclass(frozen=True)
class ModLogEntry:
    """A case as the mod log shows it: ids (rendered as mentions), never names. Rendered
    in its server's language (``guild_id``), whoever's action posted it."""

    guild_id: int
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


class CaseStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Case:
    id: int
    guild_id: int
    number: int
    action: str
    actor_id: int
    target_id: int | None
    channel_id: int | None
    reason: str
    duration_seconds: int | None
    expires_at: datetime | None
    created_at: datetime
    status: CaseStatus
    detail: str | None
    dm: str | None  # 'sent', 'closed', or None when no DM was due
    modlog_message_id: int | None


@dataclass(frozen=True)
class ReasonChange:
    old_reason: str
    new_reason: str
    changed_by: int
    changed_at: datetime


@dataclass(frozen=True)
class CaseView:
    case: Case
    reason_history: list[ReasonChange]


def entry_for(case: Case, heading: str | None = None) -> ModLogEntry:
    """A case as the mod log (and `/mod case`) shows it: the one mapping of Case to entry."""
    return ModLogEntry(
        guild_id=case.guild_id,
        number=case.number,
        action=case.action,
        actor_id=case.actor_id,
        target_id=case.target_id,
        channel_id=case.channel_id,
        reason=case.reason,
        status=case.status.value,
        created_at=case.created_at,
        detail=case.detail,
        dm=case.dm,
        duration_seconds=case.duration_seconds,
        expires_at=case.expires_at,
        heading=heading,
    )


def _unit(size: int, n: int) -> str:
    if size == 604800:
        return ngettext("{n} week", "{n} weeks", n).format(n=n)
    if size == 86400:
        return ngettext("{n} day", "{n} days", n).format(n=n)
    if size == 3600:
        return ngettext("{n} hour", "{n} hours", n).format(n=n)
    return ngettext("{n} minute", "{n} minutes", n).format(n=n)


def describe_duration(seconds: int) -> str:
    """The two largest units, in the current language: "2 days 3 hours", "2 días 3 horas"."""
    parts = []
    for size in (604800, 86400, 3600, 60):
        n, seconds = divmod(seconds, size)
        if n:
            parts.append(_unit(size, n))
    if seconds or not parts:
        parts.append(ngettext("{n} second", "{n} seconds", seconds).format(n=seconds))
    return " ".join(parts[:2])


@dataclass(frozen=True)
class CaseOutcome:
    case: Case
    modlog_posted: bool
    modlog_missing: bool
    error: str | None = None  # Discord's refusal, when the case failed
