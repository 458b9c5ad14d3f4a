"""A resource's rules: field limits and cleaning, review intervals, the review digest's text."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import datetime

from familybot import i18n
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
# A field's name inside a sentence ("The title can't be empty.").
FIELD_NAMES: dict[str, i18n.LazyString] = {
    "title": i18n.lazy_gettext("title"),
    "url": i18n.lazy_gettext("url"),
    "category": i18n.lazy_gettext("category"),
    "description": i18n.lazy_gettext("description"),
    "region": i18n.lazy_gettext("region"),
    "language": i18n.lazy_gettext("language"),
    "audience": i18n.lazy_gettext("audience"),
}
REVIEW_MONTHS = 12


def clean_fields(raw: Mapping[str, object], *, allow_http: bool) -> NewResource:
    """Validate and tidy one resource's fields; raises UserFacingError naming the problem."""
    values: dict[str, str] = {}
    for name, limit in LIMITS.items():
        value = raw.get(name)
        text = "" if value is None else str(value)
        text = " ".join(text.split()) if name != "description" else text.strip()
        if name in REQUIRED and not text:
            raise UserFacingError(
                i18n._("The {field} can't be empty.").format(field=FIELD_NAMES[name])
            )
        if len(text) > limit and name != "url":
            raise UserFacingError(
                i18n._(
                    "The {field} is {length} characters long; please keep it to {limit} or fewer."
                ).format(field=FIELD_NAMES[name], length=len(text), limit=limit)
            )
        values[name] = text
    values["url"] = validate_url(values["url"], allow_http=allow_http)
    return NewResource(**values)


def clean_reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise UserFacingError(i18n._("Please give a short reason."))
    if len(text) > REASON_MAX:
        raise UserFacingError(
            i18n._("Please keep the reason to {limit} characters or fewer.").format(
                limit=REASON_MAX
            )
        )
    return text


def add_months(instant: datetime, months: int) -> datetime:
    """The same day `months` later (the month's last day when it is shorter)."""
    month0 = instant.month - 1 + months
    year, month = instant.year + month0 // 12, month0 % 12 + 1
    day = min(instant.day, calendar.monthrange(year, month)[1])
    return instant.replace(year=year, month=month, day=day)


def suggested_notice(title: str, category: str) -> Notice:
    """For the facilitators' alerts channel (the caller sets the server's language)."""
    return Notice(
        title=i18n.pgettext("embed-title", "A resource is waiting for review"),
        body=i18n._(
            "“{title}” ({category}) was suggested for the library. "
            "A facilitator can look at it with `/resource review`."
        ).format(title=title, category=category),
    )


def added_notice(title: str) -> Notice:
    """A DM to who suggested it (the caller sets their language)."""
    return Notice(
        title=i18n.pgettext("embed-title", "Your suggestion was added"),
        body=i18n._(
            "Thank you! “{title}” is now in the server's resource library, "
            "where families can find it with `/resource search`."
        ).format(title=title),
    )


def rejected_notice(title: str, reason: str) -> Notice:
    """A DM to who suggested it (the caller sets their language)."""
    return Notice(
        title=i18n.pgettext("embed-title", "About your resource suggestion"),
        body=i18n._(
            "Thank you for suggesting “{title}”. The facilitators looked at it and "
            "decided not to add it to the library this time.\n\nTheir reason: {reason}"
        ).format(title=title, reason=reason),
    )


# Counts the digest's title can show: every plural form of every language lies within them
# (CLDR's rules tell 0, 1, 2, 3-10, 11-99 and 100-102 apart at most).
_DIGEST_COUNTS = range(0, 203)


def _review_digest_title(n: int) -> str:
    return i18n.npgettext(
        "embed-title",
        "{n} resource to look at again",
        "{n} resources to look at again",
        n,
    )


def review_digest_titles() -> frozenset[str]:
    """The digest's title in every plural form of the current language, the count left out
    ("{n}" removed): an interrupted post is known by its title whatever its count was, so a
    list that grew from one resource to several (or shrank to one) since is still the same
    post."""
    return frozenset(_review_digest_title(n).format(n="") for n in _DIGEST_COUNTS)


def review_digest_notice(items: list[Resource]) -> Notice:
    """The weekly digest, in the current language (the caller sets the server's)."""
    lines = []
    for r in items[:30]:
        why = (
            i18n._("its link keeps failing") if r.flagged_at else i18n._("its yearly review is due")
        )
        lines.append(f"• {r.title} ({r.category}): {why}")
    if len(items) > 30:
        more = len(items) - 30
        lines.append(i18n._("…and {n} more.").format(n=more))
    return Notice(
        title=_review_digest_title(len(items)).format(n=len(items)),
        body="\n".join(lines)
        + "\n\n"
        + i18n._("Please check they are still right for families; `/resource retire` removes one."),
    )
