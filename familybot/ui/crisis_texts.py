"""Crisis lines' fixed texts (hours, notes, contacts of familybot/data/crisis_lines.csv) in
the reader's language: wherever lines are shown (`/crisis`, the start-here panel, a report
about someone at risk, the safety watch's DM)."""

from __future__ import annotations

from dataclasses import replace

from familybot import i18n
from familybot.models.crisis import CrisisLine

# The `hours`, `notes` and `contact` texts of familybot/data/crisis_lines.csv (and the note
# on a server's own lines), so the catalog holds them: shown translated, keyed by the
# English text. A contact's translation keeps every number, keyword and link exactly
# (a Spanish reader still texts HOME to 741741); names are data and never change. A text
# not listed here (a new CSV row, an admin's own hours or contact) is shown as written;
# tests/unit/test_crisis_line_texts.py fails when the CSV has a text missing here.
LINE_CONTEXT = "embed-description:crisis-line"
LINE_TEXTS = (
    i18n.lazy_pgettext("embed-description:crisis-line", "24/7"),
    i18n.lazy_pgettext(
        "embed-description:crisis-line",
        "A directory of free, confidential helplines in many countries.",
    ),
    i18n.lazy_pgettext(
        "embed-description:crisis-line",
        "For example 911 in the US and Canada, 999 or 112 in the UK and Ireland.",
    ),
    i18n.lazy_pgettext(
        "embed-description:crisis-line",
        "Free and confidential, for anyone in emotional distress or suicidal crisis.",
    ),
    i18n.lazy_pgettext(
        "embed-description:crisis-line",
        "Free support by text from a trained volunteer crisis counselor.",
    ),
    i18n.lazy_pgettext(
        "embed-description:crisis-line",
        "Free support in English and French, for anyone thinking about suicide or worried "
        "about someone.",
    ),
    i18n.lazy_pgettext(
        "embed-description:crisis-line",
        "Free, confidential treatment referral and information about mental health and "
        "substance use, in English and Spanish.",
    ),
    i18n.lazy_pgettext(
        "embed-description:crisis-line",
        "Not a crisis line: information, resource referrals and support for families. In a "
        "crisis, use 988.",
    ),
    i18n.lazy_pgettext(
        "embed-description:crisis-line", "Someone to talk to, whatever you're going through."
    ),
    i18n.lazy_pgettext("embed-description:crisis-line", "Varies by line"),
    i18n.lazy_pgettext("embed-description:crisis-line", "Weekdays, 10 am to 10 pm ET"),
    i18n.lazy_pgettext("embed-description:crisis-line", "Added by this server's admins."),
    # Contacts (#12): "Call", "Text" and "or" translated; numbers, keywords, links kept.
    i18n.lazy_pgettext(
        "embed-description:crisis-line", "Call or text 988; chat at https://988lifeline.org"
    ),
    i18n.lazy_pgettext("embed-description:crisis-line", "Text HOME to 741741"),
    i18n.lazy_pgettext("embed-description:crisis-line", "Call 1-800-662-4357 (1-800-662-HELP)"),
    i18n.lazy_pgettext("embed-description:crisis-line", "Call 1-800-950-6264 (1-800-950-NAMI)"),
    i18n.lazy_pgettext("embed-description:crisis-line", "Call 116 123 (free)"),
    i18n.lazy_pgettext("embed-description:crisis-line", "Call or text 9-8-8"),
    i18n.lazy_pgettext(
        "embed-description:crisis-line",
        "Call your local emergency number if anyone is in immediate danger",
    ),
)


def translated(line: CrisisLine) -> CrisisLine:
    """The line with its hours, notes and contact in the current language where the
    catalog has them; everything else exactly as stored."""
    return replace(
        line,
        contact=i18n.pgettext(LINE_CONTEXT, line.contact) if line.contact else line.contact,
        hours=i18n.pgettext(LINE_CONTEXT, line.hours) if line.hours else line.hours,
        notes=i18n.pgettext(LINE_CONTEXT, line.notes) if line.notes else line.notes,
    )
