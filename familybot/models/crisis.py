"""Crisis lines as shown: one line, and the names of the regions a server may choose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from familybot.i18n import LazyString, lazy_pgettext

# A region's name as shown (translated when used: str() or format).
REGION_NAMES: dict[str, LazyString] = {
    "US": lazy_pgettext("embed-title:region", "United States"),
    "UK": lazy_pgettext("embed-title:region", "United Kingdom"),
    "IE": lazy_pgettext("embed-title:region", "Ireland"),
    "CA": lazy_pgettext("embed-title:region", "Canada"),
    "OTHER": lazy_pgettext("embed-title:region", "other countries"),
}


@dataclass(frozen=True)
class CrisisLine:
    region: str
    name: str
    contact: str
    channels: tuple[str, ...] = ()
    hours: str = ""
    notes: str = ""
    source_url: str = ""
    verified: date | None = None  # None for a server's own local lines
    languages: tuple[str, ...] = ()  # e.g. ("en", "es"); () when not recorded
    languages_source: str = ""
    languages_checked: date | None = None

    def offers(self, language: str) -> bool:
        return language in self.languages
