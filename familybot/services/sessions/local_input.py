"""Reading the dates and times people type (``2025-03-14``, ``18:30``, ``6:30pm``): pure,
with friendly ValueErrors (in the current language) that callers turn into kind replies."""

from __future__ import annotations

import re
from datetime import date, time

from familybot.i18n import _

_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME_24_RE = re.compile(r"([0-9]{1,2})[:.]([0-9]{2})")
_TIME_12_RE = re.compile(r"([0-9]{1,2})(?:[:.]([0-9]{2}))?\s*([ap])\.?\s*m\.?", re.IGNORECASE)


def _shown(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 40 else text[:39] + "…"


def parse_local_date(text: str) -> date:
    """Parse ``YYYY-MM-DD``; raise ValueError with a friendly message otherwise."""
    match = _DATE_RE.fullmatch(text.strip())
    if match:
        year, month, day = (int(g) for g in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise ValueError(
                _(
                    "“{text}” isn't a date on the calendar. Check the month and day, like "
                    "2025-03-14."
                ).format(text=_shown(text))
            ) from None
    raise ValueError(
        _("I couldn't read “{text}” as a date. Try year-month-day, like 2025-03-14.").format(
            text=_shown(text)
        )
    )


def parse_local_time(text: str) -> time:
    """Parse a time of day: ``18:30``, ``18.30``, ``6pm``, ``6:30 pm`` (also ``6:30 p.m.``).

    Raises ValueError with a friendly message otherwise.
    """
    cleaned = text.strip()
    hour = minute = -1
    if match := _TIME_24_RE.fullmatch(cleaned):
        hour, minute = int(match[1]), int(match[2])
        if hour > 23:
            hour = -1
    elif match := _TIME_12_RE.fullmatch(cleaned):
        hour12, minute = int(match[1]), int(match[2] or 0)
        if 1 <= hour12 <= 12:
            hour = hour12 % 12 + (12 if match[3].lower() == "p" else 0)
    if 0 <= hour <= 23 and 0 <= minute <= 59:
        return time(hour, minute)
    raise ValueError(
        _("I couldn't read “{text}” as a time. Try 18:30 or 6:30pm.").format(text=_shown(text))
    )
