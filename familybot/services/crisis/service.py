"""Crisis lines: the shipped data file, validated at start and kept in memory.

Pure: no database and no Discord, so `/crisis` can answer from here when nothing else works.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date
from importlib import resources

from familybot.models.crisis import CrisisLine

COLUMNS = ("region", "name", "contact", "channels", "hours", "notes", "source_url", "verified")
# Which languages a line answers in: filled ONLY from the organisation's own published
# information, with that page and the day it was read; empty means "not recorded" (shown
# as usual, never assumed). Optional, so a file with the eight columns above still loads.
LANGUAGE_COLUMNS = ("languages", "languages_source", "languages_checked")
LINE_LANGUAGES = frozenset({"en", "es", "fr"})
# Regions a data row may name. INTL rows are shown to every server, whatever its region.
DATA_REGIONS = ("US", "UK", "IE", "CA", "INTL")
INTL = "INTL"
# Regions a server may choose; OTHER shows the international lines only.
SERVER_REGIONS = ("US", "UK", "IE", "CA", "OTHER")
DEFAULT_REGION = "US"
CHANNELS = frozenset({"call", "text", "chat"})
STALE_AFTER_MONTHS = 6


_URL_SCHEME_RE = re.compile(r"\b([a-z][a-z0-9+.-]*)://", re.IGNORECASE)


class CrisisDataError(Exception):
    """The crisis-lines file is malformed; the message names the line and the problem."""


def insecure_url(text: str) -> str | None:
    """The first URL scheme in `text` that is not https, or None when every URL is https."""
    for match in _URL_SCHEME_RE.finditer(text):
        if match[1].lower() != "https":
            return match[1]
    return None


def _parse_row(row: dict[str, str | None], line: int, source: str) -> CrisisLine:
    def fail(problem: str) -> CrisisDataError:
        return CrisisDataError(f"{source} line {line}: {problem}")

    columns = COLUMNS + LANGUAGE_COLUMNS if LANGUAGE_COLUMNS[0] in row else COLUMNS
    if None in row or any(row.get(c) is None for c in columns):
        raise fail(f"expected {len(columns)} columns ({', '.join(columns)})")
    values = {c: (row.get(c) or "").strip() for c in COLUMNS + LANGUAGE_COLUMNS}
    region = values["region"].upper()
    if region not in DATA_REGIONS:
        raise fail(f"region {values['region']!r} is not one of {', '.join(DATA_REGIONS)}")
    for required in ("name", "contact", "hours", "source_url", "verified"):
        if not values[required]:
            raise fail(f"{required} is empty")
    channels = tuple(c.strip().lower() for c in values["channels"].split(";") if c.strip())
    if not channels or not set(channels) <= CHANNELS:
        raise fail(
            f"channels {values['channels']!r} must be one or more of call;text;chat, "
            "separated by semicolons"
        )
    if not values["source_url"].startswith("https://"):
        raise fail("source_url must be an https:// address")
    scheme = insecure_url(values["contact"])
    if scheme:
        raise fail(f"contact has a {scheme}:// address; only https:// is allowed")
    try:
        verified = date.fromisoformat(values["verified"])
    except ValueError:
        raise fail(f"verified {values['verified']!r} is not a date like 2026-11-01") from None
    languages = tuple(x.strip().lower() for x in values["languages"].split(";") if x.strip())
    languages_checked = None
    if languages:
        if not set(languages) <= LINE_LANGUAGES:
            raise fail(
                f"languages {values['languages']!r} must be codes among "
                f"{';'.join(sorted(LINE_LANGUAGES))}, separated by semicolons"
            )
        if not values["languages_source"].startswith("https://"):
            raise fail("languages_source must be the https:// page that says so")
        try:
            languages_checked = date.fromisoformat(values["languages_checked"])
        except ValueError:
            raise fail("languages_checked must be the date the source was read") from None
    elif values["languages_source"] or values["languages_checked"]:
        raise fail("languages_source and languages_checked need languages")
    return CrisisLine(
        region=region,
        name=values["name"],
        contact=values["contact"],
        channels=channels,
        hours=values["hours"],
        notes=values["notes"],
        source_url=values["source_url"],
        verified=verified,
        languages=languages,
        languages_source=values["languages_source"],
        languages_checked=languages_checked,
    )


def parse_crisis_lines(text: str, source: str = "crisis_lines.csv") -> list[CrisisLine]:
    """Every row validated; the first bad one stops loading with its line number."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) not in (COLUMNS, COLUMNS + LANGUAGE_COLUMNS):
        raise CrisisDataError(
            f"{source} line 1: the header must be {','.join(COLUMNS + LANGUAGE_COLUMNS)}, "
            f"found {','.join(reader.fieldnames or ()) or 'nothing'}"
        )
    lines: list[CrisisLine] = []
    try:
        for row in reader:
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue  # a blank line
            lines.append(_parse_row(row, reader.line_num, source))
    except csv.Error as exc:
        raise CrisisDataError(f"{source} line {reader.line_num}: {exc}") from exc
    if not any(line.region == DEFAULT_REGION for line in lines):
        raise CrisisDataError(f"{source}: no lines for the default region {DEFAULT_REGION}")
    return lines


def shipped_text() -> str:
    return (resources.files("familybot") / "data" / "crisis_lines.csv").read_text(encoding="utf-8")


def months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


class CrisisDirectory:
    """The shipped lines, in file order, and which of them a server sees."""

    def __init__(self, lines: Iterable[CrisisLine]) -> None:
        self.lines: tuple[CrisisLine, ...] = tuple(lines)

    @classmethod
    def load(cls, text: str | None = None, source: str = "crisis_lines.csv") -> CrisisDirectory:
        return cls(parse_crisis_lines(shipped_text() if text is None else text, source))

    def __len__(self) -> int:
        return len(self.lines)

    def lines_for(
        self,
        region: str | None,
        local_lines: Sequence[CrisisLine] = (),
        language: str | None = None,
    ) -> list[CrisisLine]:
        """The region's national lines, then the server's own, then the international ones;
        for a reader of another language than English, the lines the data records as
        answering in it come first (in that same order), and nothing is dropped."""
        chosen = (region or DEFAULT_REGION).upper()
        national = [line for line in self.lines if line.region == chosen]
        international = [line for line in self.lines if line.region == INTL]
        ordered = [*national, *local_lines, *international]
        if language is None or language == "en":
            return ordered
        return sorted(ordered, key=lambda line: not line.offers(language))

    def stale(self, today: date, months: int = STALE_AFTER_MONTHS) -> list[CrisisLine]:
        """Lines last verified more than `months` months before `today`."""
        cutoff = months_before(today, months)
        return [line for line in self.lines if line.verified is not None and line.verified < cutoff]
