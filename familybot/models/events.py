"""A session as a Discord scheduled event (the shapes Discord accepts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
