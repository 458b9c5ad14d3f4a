"""/my data and /my forget: the words people read (the confirm view is in cogs/my_components.py)."""

from __future__ import annotations

import io
import json
from typing import Any

import discord

from familybot.i18n import _, lazy_gettext, ngettext
from familybot.models.privacy import ForgetReport

DATA_FILENAME = "familybot-my-data.json"
CONFIRM_SECONDS = 180

DATA_INTRO = lazy_gettext(
    "Here is everything FamilyBot stores about you, in every server this FamilyBot serves, "
    "as a JSON file (only you can see this). `/my forget` deletes it."
)

FORGET_EXPLAINED = lazy_gettext(
    "**Forget me: are you sure?**\n"
    "This deletes what FamilyBot stores about you, in every server this FamilyBot serves:\n"
    "• your places in groups, waitlists and join requests, with your consent records. "
    "You'll leave those groups and their private channels\n"
    "• your RSVPs, attendance, time zone and reminder settings, your calendar choices and "
    "private calendar links (they stop working), and the record of reminders sent to you by DM\n"
    "• resources you suggested that weren't approved, and facilitators' private notes about you\n"
    "**What stays:** moderation cases (warnings, timeouts, kicks, bans) and any removal from a "
    "group or denied request, as the server's record, and the log of facilitator actions "
    "(ids only). Things you added as a facilitator (sessions, "
    "FAQ answers, resources, crisis lines) stay for the server, without your name.\n"
    "Your messages in Discord are Discord's: you can delete those there.\n"
    "This can't be undone."
)

CANCELLED = lazy_gettext("Nothing was deleted. Your groups and settings are just as they were.")
TIMED_OUT = lazy_gettext(
    "This request timed out, so nothing was deleted. Run `/my forget` again any time."
)
ONLY_YOU = lazy_gettext("Only the person who asked can answer this.")
FAILED = lazy_gettext(
    "Something went wrong part-way, so some of your data may still be here. Please run "
    "`/my forget` again, or ask a facilitator for help."
)


# How each holder's part reads in the summary, with its count.
def _label(kind: str, n: int) -> str:
    if kind == "groups":
        text = ngettext("{n} group place or role", "{n} group places and roles", n)
    elif kind == "sessions":
        text = ngettext(
            "{n} RSVP, attendance or reminder setting",
            "{n} RSVPs, attendance and reminder settings",
            n,
        )
    elif kind == "moderation":
        text = ngettext("{n} private note", "{n} private notes", n)
    elif kind == "resources":
        text = ngettext("{n} suggestion", "{n} suggestions", n)
    else:
        text = ngettext("{n} departure record", "{n} departure records", n)
    return text.format(n=n)


_LABELS = frozenset({"groups", "sessions", "moderation", "resources", "departures"})


def data_file(data: dict[str, Any]) -> discord.File:
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()
    return discord.File(io.BytesIO(body), filename=DATA_FILENAME)


def forget_done(report: ForgetReport) -> str:
    parts = [_label(k, n) for k, n in report.counts.items() if n and k in _LABELS]
    others = sum(n for k, n in report.counts.items() if k not in _LABELS)
    if others:
        parts.append(ngettext("{n} other record", "{n} other records", others).format(n=others))
    detail = f" ({', '.join(parts)})" if parts else ""
    done = ngettext(
        "Done. FamilyBot has forgotten you: {n} record removed or made anonymous{detail}.",
        "Done. FamilyBot has forgotten you: {n} records removed or made anonymous{detail}.",
        report.total,
    ).format(n=report.total, detail=detail)
    return done + " " + _("Take care of yourself. 💙 `/crisis` is always here if you need it.")
