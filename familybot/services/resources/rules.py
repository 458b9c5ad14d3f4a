"""A resource's rules: field limits and cleaning, review intervals, the review digest's text."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import datetime

from familybot.db.repositories.resources import NewResource
from familybot.errors import (
    UserFacingError,
)
from familybot.models import Resource
from familybot.models.notices import Notice
from familybot.models.resources import REASON_MAX
from familybot.services.resources.urls import validate_url

# Field limits (characters), chosen so a resource card stays well inside Discord's embed limits.
LIMITS: dict[str, int] = {
    "title": 150,
    "url": 512,
    "category": 50,
    "description": 1000,
    "region": 60,
    "language": 40,
    "audience": 80,
}
REQUIRED = ("title", "url", "category", "description")
REVIEW_MONTHS = 12


def clean_fields(raw: Mapping[str, object], *, allow_http: bool) -> NewResource:
    """Validate and tidy one resource's fields; raises UserFacingError naming the problem."""
    values: dict[str, str] = {}
    for name, limit in LIMITS.items():
        value = raw.get(name)
        text = "" if value is None else str(value)
        text = " ".join(text.split()) if name != "description" else text.strip()
        if name in REQUIRED and not text:
            raise UserFacingError(f"The {name} can't be empty.")
        if len(text) > limit and name != "url":
            raise UserFacingError(
                f"The {name} is {len(text)} characters long; please keep it to {limit} or fewer."
            )
        values[name] = text
    values["url"] = validate_url(values["url"], allow_http=allow_http)
    return NewResource(**values)


def clean_reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise UserFacingError("Please give a short reason.")
    if len(text) > REASON_MAX:
        raise UserFacingError(f"Please keep the reason to {REASON_MAX} characters or fewer.")
    return text


def add_months(instant: datetime, months: int) -> datetime:
    """The same day `months` later (the month's last day when it is shorter)."""
    month0 = instant.month - 1 + months
    year, month = instant.year + month0 // 12, month0 % 12 + 1
    day = min(instant.day, calendar.monthrange(year, month)[1])
    return instant.replace(year=year, month=month, day=day)


def review_digest_notice(items: list[Resource]) -> Notice:
    lines = []
    for r in items[:30]:
        why = "its link keeps failing" if r.flagged_at else "its yearly review is due"
        lines.append(f"• {r.title} ({r.category}): {why}")
    if len(items) > 30:
        lines.append(f"…and {len(items) - 30} more.")
    return Notice(
        title=f"{len(items)} resource{'s' if len(items) != 1 else ''} to look at again",
        body="\n".join(lines)
        + "\n\nPlease check they are still right for families; `/resource retire` removes one.",
    )
