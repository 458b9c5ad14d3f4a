"""One parser for lengths of time typed by people: reminder times and moderation lengths.

A duration is one or more parts, each a number and a unit, largest unit first:
``90m``, ``1h30m``, ``1h 30m``, ``2 hours``, ``1 day 12 hours``, ``1d``, ``1w``, ``1.5h``.
Units: w/wk/week(s), d/day(s), h/hr(s)/hour(s), m/min(s)/minute(s), s/sec(s)/second(s).
A bare number is minutes. Pure: no Discord, no database.
"""

from __future__ import annotations

import re
from datetime import timedelta

from familybot import i18n

__all__ = ["ACCEPTED_FORMS", "DurationError", "parse_duration", "parse_duration_list"]

ACCEPTED_FORMS = "90m, 1h30m, 2 hours, 1d or 1w"  # shown through the catalog (below)
i18n.lazy_gettext("90m, 1h30m, 2 hours, 1d or 1w")  # for extraction: ACCEPTED_FORMS's msgid

_UNITS = (
    # English, and the Spanish words a member may type ("2 horas", "1 día").
    ("w", 604800, ("w", "wk", "wks", "week", "weeks", "semana", "semanas")),
    ("d", 86400, ("d", "day", "days", "día", "días", "dia", "dias")),
    ("h", 3600, ("h", "hr", "hrs", "hour", "hours", "hora", "horas")),
    ("m", 60, ("m", "min", "mins", "minute", "minutes", "minuto", "minutos")),
    ("s", 1, ("s", "sec", "secs", "second", "seconds", "segundo", "segundos")),
)
_SECONDS = {word: size for _, size, words in _UNITS for word in words}
_WORDS = "|".join(sorted(_SECONDS, key=len, reverse=True))
_PART = re.compile(rf"(\d+(?:\.\d+)?)\s*({_WORDS})?(?![a-zá-ú])")
# In a list, a new item starts at a comma or semicolon, or at a space before a number:
# "24h, 1h" and "2d 30m" are two reminders; "1h30m" is one.
_LIST_SPLIT = re.compile(r"[,;]+|\s+(?=\d)")


class DurationError(ValueError):
    """A kind message saying what was not understood and which forms work."""


def _not_read(text: str) -> DurationError:
    shown = text.strip()[:20]
    return DurationError(
        i18n._(
            "I couldn't read “{query}” as a length of time. Try something like {examples}."
        ).format(query=shown, examples=i18n._(ACCEPTED_FORMS))
    )


def parse_duration(text: str) -> timedelta:
    """One duration, e.g. '1h 30m' -> 90 minutes. Raises DurationError."""
    compact = text.strip().casefold()
    if not compact:
        raise _not_read(text)
    total = 0.0
    position = 0
    last_size: int | None = None
    for match in _PART.finditer(compact):
        if compact[position : match.start()].strip():
            raise _not_read(text)
        size = _SECONDS[match[2]] if match[2] else 60
        if last_size is not None and size >= last_size:
            raise _not_read(text)  # "1h 2h", "30m 1h": not one length of time
        total += float(match[1]) * size
        last_size = size
        position = match.end()
    if last_size is None or compact[position:].strip():
        raise _not_read(text)
    seconds = round(total)
    if seconds <= 0:
        raise DurationError(i18n._("The length of time needs to be more than zero."))
    return timedelta(seconds=seconds)


def parse_duration_list(text: str) -> list[timedelta]:
    """Several durations, e.g. '24h, 1h' or '2d 30m' -> two. Raises DurationError."""
    items = [item for item in _LIST_SPLIT.split(text.strip()) if item.strip()]
    return [parse_duration(item) for item in items]
