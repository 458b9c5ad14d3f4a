"""Reminders as delivered: the card (counts, never names), where it goes, how it went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
    # A resend of an interrupted send counts on Discord remembering its nonce until then;
    # a send that only gets its turn after it (pacing) must not go out blind (sender.py).
    nonce_fresh_until: datetime | None = None


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
    # Not sent: its turn came after card.nonce_fresh_until (look for it first, then send).
    stale: bool = False


@dataclass
class DispatchReport:
    """What one dispatch run did (services/reminders/service.py)."""

    sent: int = 0
    late: int = 0
    skipped: int = 0
    cancelled: int = 0
    undeliverable: int = 0
    retried: int = 0
    recovered: int = 0
