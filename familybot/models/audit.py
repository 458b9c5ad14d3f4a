"""The audit log's types: who did what to which target, and how it ended (ids only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AuditResult(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # a check or a rule said no; nothing changed
    FAILED = "failed"  # something broke (Discord, the database, a bug)


class TargetKind(StrEnum):
    USER = "user"
    ROLE = "role"
    CHANNEL = "channel"
    GROUP = "group"
    SESSION = "session"
    RESOURCE = "resource"
    CASE = "case"


@dataclass(frozen=True)
class AuditTarget:
    id: int
    kind: TargetKind


@dataclass(frozen=True)
class AuditEntry:
    id: int
    guild_id: int
    actor_id: int
    action: str
    target: AuditTarget | None
    result: AuditResult
    created_at: datetime
