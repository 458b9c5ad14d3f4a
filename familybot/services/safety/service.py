"""Messages in group channels: the safety watch first, then light automod. Both opt-in.

The cog hands over each server message (only when MESSAGE_CONTENT_INTENT is on); this decides
whether anything applies, with one database read, and never keeps the text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from familybot.db.repositories.safety import SafetyRepository
from familybot.models.safety import SeenMessage
from familybot.models.setup import Actor
from familybot.services.moderation.automod import Automod, AutomodOutcome
from familybot.services.safety.watch import (
    SafetyWatch,
    WatchOutcome,
)
from familybot.services.setup.service import SetupService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MessageOutcome:
    watch: WatchOutcome | None = None  # None: the watch did not look (off, or not a group)
    automod: AutomodOutcome | None = None  # None: nothing to act on, or exempt


class SafetyService:
    def __init__(
        self,
        repo: SafetyRepository,
        setup: SetupService,
        watch: SafetyWatch,
        automod: Automod,
    ) -> None:
        self._repo = repo
        self._setup = setup
        self.watch = watch
        self.automod = automod

    async def on_message(self, message: SeenMessage, author: Actor) -> MessageOutcome:
        scope = await self._repo.channel_watch(message.guild_id, message.channel_id)
        if not scope.any:
            return MessageOutcome()
        watched = None
        if scope.safety_watch:
            try:
                watched = await self.watch.consider(message, scope.alerts_channel_id)
            except Exception:
                # A failing detector (e.g. the classifier in its thread) must not also switch
                # automod off for this message. Ids only: never the text or its author.
                log.exception(
                    "safety watch failed guild=%d channel=%d", message.guild_id, message.channel_id
                )
        acted = None
        # Facilitators (and admins) share links and ping their groups as part of the job.
        if scope.automod and not await self._setup.is_facilitator(message.guild_id, author):
            acted = await self.automod.consider(message, scope.modlog_channel_id)
        return MessageOutcome(watch=watched, automod=acted)
