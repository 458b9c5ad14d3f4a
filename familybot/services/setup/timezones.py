"""Finding a time zone the way people name it: "EST", "Pacific", "India", "UK", "New York".

Suggestions come from the IANA database's own tables (``zone.tab``: the canonical zone for
each country region, with its description; ``iso3166.tab``: country names), shipped by the
``tzdata`` package, plus a short list of everyday names and abbreviations. Legacy aliases
(``US/Eastern``, ``EST``, ``GB``) are never offered; typed in full they are read as the zone
they stand for. Pure: no Discord, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from familybot import i18n
from familybot.services.sessions.recurrence import validate_tz

__all__ = ["ZoneSuggestion", "resolve_timezone", "suggest_timezones"]

# Everyday names and abbreviations -> the zone(s) people mean, most likely first.
COMMON_NAMES: dict[str, tuple[str, ...]] = {
    "eastern": ("America/New_York",),
    "est": ("America/New_York",),
    "edt": ("America/New_York",),
    "et": ("America/New_York",),
    "central": ("America/Chicago", "Europe/Berlin"),
    "cst": ("America/Chicago",),
    "cdt": ("America/Chicago",),
    "ct": ("America/Chicago",),
    "mountain": ("America/Denver", "America/Phoenix"),
    "mst": ("America/Denver", "America/Phoenix"),
    "mdt": ("America/Denver",),
    "arizona": ("America/Phoenix",),
    "pacific": ("America/Los_Angeles",),
    "pst": ("America/Los_Angeles",),
    "pdt": ("America/Los_Angeles",),
    "pt": ("America/Los_Angeles",),
    "alaska": ("America/Anchorage",),
    "hawaii": ("Pacific/Honolulu",),
    "hst": ("Pacific/Honolulu",),
    "atlantic": ("America/Halifax", "America/Puerto_Rico"),
    "ast": ("America/Puerto_Rico", "America/Halifax"),
    "newfoundland": ("America/St_Johns",),
    "uk": ("Europe/London",),
    "england": ("Europe/London",),
    "scotland": ("Europe/London",),
    "wales": ("Europe/London",),
    "gmt": ("Europe/London", "UTC"),
    "bst": ("Europe/London",),
    "ireland": ("Europe/Dublin",),
    "central europe": ("Europe/Berlin", "Europe/Paris", "Europe/Madrid"),
    "cet": ("Europe/Berlin", "Europe/Paris", "Europe/Madrid"),
    "cest": ("Europe/Berlin", "Europe/Paris", "Europe/Madrid"),
    "eastern europe": ("Europe/Athens", "Europe/Bucharest", "Europe/Kyiv"),
    "eet": ("Europe/Athens", "Europe/Bucharest", "Europe/Kyiv"),
    "india": ("Asia/Kolkata",),
    "ist": ("Asia/Kolkata",),
    "japan": ("Asia/Tokyo",),
    "jst": ("Asia/Tokyo",),
    "aest": ("Australia/Sydney", "Australia/Brisbane"),
    "aedt": ("Australia/Sydney",),
    "nzst": ("Pacific/Auckland",),
    "nzdt": ("Pacific/Auckland",),
    "utc": ("UTC",),
    "zulu": ("UTC",),
}
# Shown before anything is typed: the zones most families here use.
DEFAULT_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "America/Mexico_City",
    "Europe/London",
    "Europe/Madrid",
    "UTC",
)
LABEL_MAX = 100  # Discord's limit for a choice name


@dataclass(frozen=True)
class _Zone:
    name: str
    where: str  # "United States, Eastern (most areas)"
    haystack: str  # what a search looks in, casefolded
    country: str = ""  # ISO 3166 code, e.g. "US": its name in other languages comes from CLDR


@dataclass(frozen=True)
class ZoneSuggestion:
    zone: str
    label: str


def _tab_lines(name: str) -> list[list[str]]:
    text = resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@lru_cache(maxsize=1)
def _zones() -> dict[str, _Zone]:
    countries = {row[0]: row[1] for row in _tab_lines("iso3166.tab") if len(row) >= 2}
    zones: dict[str, _Zone] = {}
    for row in _tab_lines("zone.tab"):
        if len(row) < 3 or row[2] in zones or not validate_tz(row[2]):
            continue
        country = countries.get(row[0], row[0])
        where = f"{country}, {row[3]}" if len(row) > 3 and row[3] else country
        haystack = f"{row[2]} {where}".casefold().replace("_", " ")
        zones[row[2]] = _Zone(row[2], where, haystack, row[0])
    zones["UTC"] = _Zone("UTC", "Coordinated Universal Time", "utc coordinated universal time")
    return zones


@lru_cache(maxsize=1)
def _links() -> dict[str, str]:
    """Legacy name -> canonical zone, from the database's own link lines."""
    text = resources.files("tzdata").joinpath("zoneinfo", "tzdata.zi").read_text(encoding="utf-8")
    links = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "L":
            links[parts[2]] = parts[1]
    return links


def _normalise(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text.strip().casefold())


def resolve_timezone(text: str) -> str | None:
    """The canonical zone for what someone typed, or None if it names no zone.

    Everyday names win over legacy zones of the same spelling: "EST" is New York (what
    people mean), not the fixed UTC-5 zone that never observes daylight saving.
    """
    typed = _normalise(text)
    if typed in COMMON_NAMES:
        return COMMON_NAMES[typed][0]
    name = text.strip()
    zones = _zones()
    if name in zones:
        return name
    for zone in zones:  # "america/new york" -> America/New_York
        if _normalise(zone) == typed:
            return zone
    if validate_tz(name):
        return _links().get(name, name)
    return None


def _offset_text(zone: str, now: datetime) -> str:
    offset = now.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def _where(info: _Zone) -> str:
    """Where a zone is, in the current language. English: zone.tab's own words ("United
    States, Eastern (most areas)"); other languages: the country's name from Babel's CLDR
    data ("Estados Unidos"), as zone.tab's area notes exist in English only."""
    language = i18n.current_language()
    if language == "en" or not info.country:
        return info.where
    from babel import Locale

    return str(Locale.parse(language).territories.get(info.country, info.where))


def _label(zone: str, now: datetime) -> str:
    """ "America/New_York · United States, Eastern (most areas) · UTC−05:00 now"."""
    info = _zones().get(zone)
    tail = " · " + i18n.pgettext("autocomplete", "{offset} now").format(
        offset=_offset_text(zone, now)
    )
    if info is None or zone == "UTC":
        return f"{zone}{tail}"
    room = LABEL_MAX - len(zone) - len(tail) - 3
    where = _where(info)
    where = where if len(where) <= room else where[: room - 1] + "…"
    return f"{zone} · {where}{tail}"


def suggest_timezones(typed: str, now: datetime, limit: int = 25) -> list[ZoneSuggestion]:
    """Zones for an autocomplete box, most likely first, each with its UTC offset now."""
    query = _normalise(typed)
    zones = _zones()
    picked: list[str] = []

    def add(names: list[str] | tuple[str, ...]) -> None:
        for name in names:
            if name in zones and name not in picked:
                picked.append(name)

    if not query:
        add(DEFAULT_ZONES)
    else:
        add(COMMON_NAMES.get(query, ()))
        resolved = resolve_timezone(typed)  # a full legacy name: "US/Eastern", "GB"
        if resolved is not None:
            add([resolved])
        by_name = sorted(
            name
            for name in zones
            if _normalise(name).startswith(query)
            or any(part.startswith(query) for part in _normalise(name).split("/")[1:])
        )
        add(by_name)
        if len(query) >= 3:
            add([z for key, names in COMMON_NAMES.items() if key.startswith(query) for z in names])
        word = re.compile(rf"\b{re.escape(query)}")
        add(sorted(name for name, info in zones.items() if word.search(info.haystack)))
    return [ZoneSuggestion(zone, _label(zone, now)) for zone in picked[:limit]]
