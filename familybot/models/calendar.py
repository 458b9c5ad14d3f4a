"""What `/my calendar` shows: the calendar file and the live link's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class MyCalendar:
    """What `/my calendar` shows: the file, and the live link's state."""

    ics: bytes
    series_count: int
    titles: str
    feed_on: bool
    #: The new link (only right after it was made or renewed: it is never shown again).
    url: str | None = None
    token: str | None = None
    #: An older link was revoked to make this one.
    renewed: bool = False
    #: When the member's existing (not shown) link was made.
    link_since: datetime | None = None
