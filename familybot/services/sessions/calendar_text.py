"""User text made safe for a calendar property (calendar.py writes every title, group name
and location through :func:`clean_text`). Pure.

User-supplied text is cleaned before icalendar escapes it: control characters (and
line/paragraph separators, surrogates and bidi overrides) become spaces, whitespace runs
collapse, and lengths are capped (title 200, group name 100, location 200, calendar name
200 characters; the limits are calendar.py's).
"""

from __future__ import annotations

import re
import unicodedata

# Bidi embeddings/overrides/isolates: invisible, and can make text read differently.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REMOVED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_SPACES = re.compile(r"\s+")


def clean_text(text: str, max_len: int) -> str:
    """Make user text safe to put in a calendar property.

    Control characters (including CR/LF/TAB), line/paragraph separators, lone
    surrogates and bidi controls become spaces; whitespace runs collapse to one space;
    the result is stripped and cut to ``max_len`` characters (ending in "…" if cut).
    RFC 5545 escaping of ``\\ ; ,`` is left to icalendar.
    """
    chars = [
        " " if ch in _BIDI_CONTROLS or unicodedata.category(ch) in _REMOVED_CATEGORIES else ch
        for ch in text
    ]
    cleaned = _SPACES.sub(" ", "".join(chars)).strip()
    if len(cleaned) > max_len:
        cleaned = cleaned[: max_len - 1].rstrip() + "…"
    return cleaned
