"""Messages in group channels: the safety watch first, then light automod. Both opt-in.

The cog hands over each server message (only when MESSAGE_CONTENT_INTENT is on); this decides
whether anything applies, with one database read, and never keeps the text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.moderation import ModerationRepository
from familybot.db.repositories.safety import SafetyRepository
from familybot.services.automod import Automod, AutomodOutcome, AutomodPort
from familybot.services.crisis import CrisisDirectory, CrisisLine
from familybot.services.crisis_config import CrisisConfigService
from familybot.services.ports import DiscordPort
from familybot.services.safety_model import bot_detector
from familybot.services.safety_watch import (
    Detector,
    SafetyPort,
    SafetyWatch,
    SeenMessage,
    WatchOutcome,
)
from familybot.services.setup import Actor, SetupService

log = logging.getLogger(__name__)


class SafetyIOPort(SafetyPort, AutomodPort, Protocol):
    """Everything the two features ask of Discord beyond the shared DiscordPort."""


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
            watched = await self.watch.consider(message, scope.alerts_channel_id)
        acted = None
        # Facilitators (and admins) share links and ping their groups as part of the job.
        if scope.automod and not await self._setup.is_facilitator(message.guild_id, author):
            acted = await self.automod.consider(message, scope.modlog_channel_id)
        return MessageOutcome(watch=watched, automod=acted)


def build_safety(
    db: Database,
    discord: DiscordPort,
    io: SafetyIOPort,
    setup: SetupService,
    crisis: CrisisConfigService,
    directory: CrisisDirectory,
    clock: Clock,
    phrases: Detector | None = None,
) -> SafetyService:
    def crisis_lines_for(guild_id: int) -> tuple[str | None, Sequence[CrisisLine]]:
        # The same lines /crisis shows on this server, from memory (no database needed).
        known = crisis.cached(guild_id)
        region = known.region if known else None
        return region, directory.lines_for(region, known.local_lines if known else ())

    # The matcher, or the matcher or the classifier when the safety-model extra is installed.
    watch = SafetyWatch(phrases or bot_detector(), io, crisis_lines_for, clock)
    automod = Automod(ModerationRepository(db), discord, io, clock)
    return SafetyService(SafetyRepository(db), setup, watch, automod)
