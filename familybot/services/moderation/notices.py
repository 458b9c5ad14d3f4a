"""What a moderated member is told by DM: calm, with the reason, in THEIR language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from familybot import i18n
from familybot.models.notices import Notice
from familybot.services.moderation.rules import Action, BotSelf, Person


@dataclass(frozen=True)
class ModRequest:
    """One moderation action as asked (cogs/moderation.py builds it)."""

    guild_id: int
    action: Action
    actor: Person
    bot: BotSelf
    reason: str = ""
    guild_name: str = ""  # "" reads as "the server"
    target: Person | None = None
    channel_id: int | None = None
    length: timedelta | None = None  # timeout; ban (None: until lifted)
    delete_message_seconds: int = 0  # ban
    amount: int = 0  # purge
    purge_author_id: int | None = None  # purge: only this person's messages
    slowmode_seconds: int = 0


def dm_for(request: ModRequest, expires_at: datetime | None) -> Notice | None:
    """What the member is told, calmly, with the reason, in THEIR language (their /my
    language, else the server's), not the moderator's. None: no DM for this action."""
    if request.target is None or request.action not in _DM_ACTIONS:
        return None
    with i18n.using(i18n.for_dm(request.target.user_id, request.guild_id)):
        return _dm_text(request, expires_at)


def _dm_text(request: ModRequest, expires_at: datetime | None) -> Notice | None:
    _, pgettext = i18n._, i18n.pgettext
    where = request.guild_name or _("the server")
    reason = "\n\n" + _("**Reason:** {reason}").format(
        reason=request.reason or _("No reason given.")
    )
    until = f"<t:{int(expires_at.timestamp())}:F>" if expires_at else ""
    action = request.action
    if action is Action.WARN:
        return Notice(
            pgettext("embed-title", "A note from the facilitators of {name}").format(name=where),
            _("The facilitators are asking you to please keep the server's guidelines in mind.")
            + reason,
        )
    if action is Action.TIMEOUT:
        body = (
            _(
                "You've been given a timeout until {until}. You can still read, but not post "
                "or speak, until it ends."
            ).format(until=until)
            if until
            else _(
                "You've been given a timeout. You can still read, but not post or speak, "
                "until it ends."
            )
        )
        return Notice(
            pgettext("embed-title", "A pause in {name}").format(name=where), body + reason
        )
    if action is Action.UNTIMEOUT:
        return Notice(
            pgettext("embed-title", "Your timeout in {name} has ended").format(name=where),
            _("You can post again.") + reason,
        )
    if action is Action.KICK:
        return Notice(
            pgettext("embed-title", "You've been removed from {name}").format(name=where),
            _("A facilitator removed you from the server. You may rejoin if you're invited again.")
            + reason,
        )
    if action is Action.BAN:
        body = (
            _("This ban ends by itself on {until}.").format(until=until)
            if until
            else _("This ban has no end date.")
        )
        return Notice(
            pgettext("embed-title", "You've been banned from {name}").format(name=where),
            body + reason,
        )
    return None


_DM_ACTIONS = frozenset({Action.WARN, Action.TIMEOUT, Action.UNTIMEOUT, Action.KICK, Action.BAN})
