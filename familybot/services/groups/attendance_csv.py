"""The attendance export behind `/group stats format:csv`: one row per member per session.

Spreadsheet-safe: following OWASP's CSV injection guidance, any cell that starts with
= + - @, a tab or a carriage return is prefixed with a single quote, so a display name such
as `=HYPERLINK(...)` is shown as text and never run as a formula. Every cell is quoted.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from familybot.i18n import _, lazy_gettext
from familybot.models import Rsvp

PERSONAL_DATA_NOTICE = lazy_gettext(
    "This file contains personal data about members of a support group. Store it securely, "
    "share it only with people who need it for program reporting, and delete it when done."
)
# Column names stay as they are in every language: reporting sheets read them by name.
HEADER = ("session_date", "session", "user_id", "display_name", "attended", "rsvp")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _rsvp_word(rsvp: Rsvp | None) -> str:
    words = {
        Rsvp.GOING: _("going"),
        Rsvp.MAYBE: _("maybe"),
        Rsvp.NO: _("can't make it"),
    }
    return words[rsvp] if rsvp is not None else _("no reply")


@dataclass(frozen=True)
class ExportRow:
    day: date
    session_title: str
    user_id: int
    attended: bool
    rsvp: Rsvp | None


def safe_cell(value: str) -> str:
    """Neutralise a cell a spreadsheet would read as a formula (OWASP CSV injection).

    Judged on the cell as an app may see it: some trim leading whitespace on import (any
    Unicode space, a newline) and some read full-width ＝ ＋ － ＠ as = + - @ (NFKC folds them),
    so " =HYPERLINK(…)" or "＝1+1" is neutralised too."""
    seen = unicodedata.normalize("NFKC", value).lstrip()
    if value.startswith(FORMULA_STARTS) or seen.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def build_csv(rows: Sequence[ExportRow], names: Mapping[int, str]) -> bytes:
    """UTF-8 with a BOM (so spreadsheet apps pick the encoding), the notice on line one."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([safe_cell(str(PERSONAL_DATA_NOTICE))])
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            [
                safe_cell(cell)
                for cell in (
                    row.day.isoformat(),
                    row.session_title,
                    str(row.user_id),
                    names.get(row.user_id, ""),
                    _("yes") if row.attended else _("no"),
                    _rsvp_word(row.rsvp),
                )
            ]
        )
    return out.getvalue().encode("utf-8-sig")
