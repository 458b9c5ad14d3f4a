"""Light automod (opt-in, /setup automod): invite links and mass mentions in group channels.

The message is removed, its author gets a kind private note saying why, and a moderation case
(actor 0: FamilyBot itself) is stored and posted to the mod log. The case keeps a category
("Invite link"), never the message text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from familybot import i18n
from familybot.clock import Clock
from familybot.db.repositories.moderation import ModerationRepository
from familybot.models.moderation import Case, CaseStatus, ModLogEntry, entry_for
from familybot.models.notices import Notice
from familybot.models.safety import SeenMessage
from familybot.services.moderation.service import AUTOMATIC

log = logging.getLogger(__name__)

ACTION = "automod"
# Distinct people and roles in one message; five is more than a reply or a thank-you needs.
MASS_MENTION_THRESHOLD = 5
INVITE_RE = re.compile(
    r"(?:https?://)?(?:www\.)?(?:discord(?:app)?\.com/invite|discord\.gg)\s*/\s*[a-z0-9-]+",
    re.IGNORECASE,
)


class Violation(StrEnum):
    INVITE = "Invite link"
    MASS_MENTIONS = "Mass mentions"


def find_violation(message: SeenMessage) -> Violation | None:
    """What (if anything) this message breaks. The author's own id never counts."""
    if INVITE_RE.search(message.content):
        return Violation.INVITE
    mentioned = message.mention_ids - {message.author_id}
    if message.mention_everyone or len(mentioned) >= MASS_MENTION_THRESHOLD:
        return Violation.MASS_MENTIONS
    return None


# The category as the case records it, in the server's language.
_NAMES = {
    Violation.INVITE: i18n.lazy_gettext("Invite link"),
    Violation.MASS_MENTIONS: i18n.lazy_gettext("Mass mentions"),
}
_WHY = {
    Violation.INVITE: i18n.lazy_gettext(
        "It had an invite to another Discord server. To keep group channels calm and safe, "
        "invites aren't posted there."
    ),
    Violation.MASS_MENTIONS: i18n.lazy_gettext(
        "It mentioned a lot of people at once. To keep group channels calm, messages that "
        "ping many people (or everyone) aren't posted there."
    ),
}


def note_for(violation: Violation, guild_name: str) -> Notice:
    """The note to the author, in the current language (the caller sets the author's)."""
    return Notice(
        i18n.pgettext("embed-title", "About your message in {name}").format(name=guild_name),
        i18n._(
            "I removed a message you posted in one of the group channels. {why}\n\n"
            "This isn't a punishment, and nothing else has changed. If you meant to share "
            "something useful, a facilitator is happy to help you share it another way."
        ).format(why=_WHY[violation]),
    )


class AutomodPort(Protocol):
    """What automod asks of Discord: removing a message, the note to its author and the
    mod-log entry (familybot/discord/safety.py)."""

    def can_manage_messages(self, channel_id: int) -> bool:
        """Whether the bot may remove others' messages in this channel."""
        ...

    async def delete_message(self, channel_id: int, message_id: int, reason: str) -> bool:
        """Remove the message; False when Discord refused or it was already gone."""
        ...

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        """Send a private message; False when the person cannot receive DMs."""
        ...

    async def post_mod_log(self, channel_id: int, entry: ModLogEntry) -> int | None:
        """Post a case to the mod-log channel; the message id, or None when it failed."""
        ...


@dataclass(frozen=True)
class AutomodOutcome:
    violation: Violation
    removed: bool
    case: Case | None = None  # None when nothing was done (the bot lacks Manage Messages)


class Automod:
    def __init__(
        self,
        repo: ModerationRepository,
        discord: AutomodPort,
        clock: Clock,
    ) -> None:
        self._repo = repo
        self._discord = discord
        self._clock = clock

    async def consider(
        self, message: SeenMessage, modlog_channel_id: int | None
    ) -> AutomodOutcome | None:
        """For a message in an automod-watched group channel from someone not exempt."""
        violation = find_violation(message)
        if violation is None:
            return None
        if not self._discord.can_manage_messages(message.channel_id):
            log.warning(
                "automod cannot remove message guild=%d channel=%d reason=no-manage-messages",
                message.guild_id,
                message.channel_id,
            )
            return AutomodOutcome(violation, removed=False)
        # The record (reason, details, Discord's audit log) in the server's language.
        server = i18n.for_guild(message.guild_id)
        with i18n.using(server):
            reason = str(_NAMES[violation])
        case = await self._repo.open_case(
            guild_id=message.guild_id,
            action=ACTION,
            actor_id=AUTOMATIC,
            target_id=message.author_id,
            channel_id=message.channel_id,
            reason=reason,
            duration_seconds=None,
            expires_at=None,
            now=self._clock.now(),
        )
        with i18n.using(server):
            audit = i18n._("Case {number}: automod, {reason}").format(
                number=case.number, reason=reason.lower()
            )
            removed_note, refused = i18n._("Message removed."), i18n._("Discord refused")
        removed = await self._discord.delete_message(message.channel_id, message.message_id, audit)
        if removed:
            with i18n.using(i18n.for_dm(message.author_id, message.guild_id)):
                note = note_for(violation, message.guild_name)
            dm = "sent" if await self._discord.send_dm(message.author_id, note) else "closed"
            case = await self._repo.finish(case.id, CaseStatus.DONE, removed_note, dm)
        else:
            case = await self._repo.finish(case.id, CaseStatus.FAILED, refused, None)
        await self._post(case, modlog_channel_id)
        log.info(
            "automod case guild=%d case=%d status=%s",
            case.guild_id,
            case.number,
            case.status.value,
        )
        return AutomodOutcome(violation, removed=removed, case=case)

    async def _post(self, case: Case, channel_id: int | None) -> None:
        if channel_id is None:
            return
        message_id = await self._discord.post_mod_log(channel_id, entry_for(case))
        if message_id is None:
            log.warning("mod-log post failed guild=%d case=%d", case.guild_id, case.number)
        else:
            await self._repo.set_modlog_message(case.id, message_id)
