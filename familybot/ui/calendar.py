"""The words of `/my calendar`: the live link (shown once), the title choice, the file."""

from __future__ import annotations

from familybot.i18n import _, lazy_gettext
from familybot.models.calendar import MyCalendar

FEED_OFF = lazy_gettext(
    "This server's FamilyBot doesn't run live calendar links, so the file is a snapshot: "
    "download it again after changes (cancelled or moved sessions won't update by themselves)."
)
NOTHING_YET = lazy_gettext(
    "Your groups have no scheduled sessions yet, so there's nothing to add to a calendar."
)


def _titles_line(titles: str) -> str:
    if titles == "full":
        return _(
            "Event titles: **full** (session and group names). If you share this calendar with "
            "family, `/my calendar titles:neutral` hides which groups you're in."
        )
    return _(
        "Event titles: **neutral** (“Support group session”, no group names), safe for a "
        "calendar you share with family. For names, use `/my calendar titles:full`."
    )


def calendar_reply(result: MyCalendar) -> str:
    """The ephemeral reply; the caller attaches the file when ``result.series_count``."""
    parts: list[str] = []
    if not result.feed_on:
        if result.series_count == 0:
            return str(NOTHING_YET)
        parts.append(
            _(
                "Here are your groups' sessions. Open the file to add them to your calendar app; "
                "it includes repeats and leaves out cancelled dates."
            )
        )
        parts.append(str(FEED_OFF))
    elif result.url is not None:
        first = (
            _("Done: your old calendar link no longer works. Here's your new private link.")
            if result.renewed
            else _("Here's your private calendar link.")
        )
        how = _(
            "In your calendar app, choose “subscribe” or “add calendar from URL” "
            "and paste it; cancels and moves then show up by themselves."
        )
        keep = _(
            "Keep it to yourself: anyone with it can see your sessions here. I show it only "
            "this once, so save it now. If you lose it, `/my calendar new-link:true` gives you "
            "a new one and stops the old one."
        )
        parts.append(f"{first} {how}\n<{result.url}>\n{keep}")
    else:
        if result.link_since:
            working = _("Your private calendar link (made {day}) is still working.").format(
                day=f"<t:{int(result.link_since.timestamp())}:D>"
            )
        else:
            working = _("Your private calendar link is still working.")
        rest = _(
            "For your privacy I don't keep a copy of it, so I can't show it again. If you've "
            "lost it, `/my calendar new-link:true` gives you a new one and stops the old one."
        )
        parts.append(f"{working} {rest}")
    if result.feed_on:
        parts.append(
            _("The file below is the same calendar, for apps that can't subscribe.")
            if result.series_count
            else _("Your groups have no scheduled sessions yet; they'll appear once scheduled.")
        )
    parts.append(_titles_line(result.titles))
    return "\n\n".join(parts)
