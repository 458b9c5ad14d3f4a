"""FamilyBot: database, services and scheduler are built before any cog loads."""

from __future__ import annotations

import logging
import time
from typing import Any

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord.ext import commands

from familybot import __version__
from familybot.clock import Clock, SystemClock
from familybot.config import Settings
from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.discord_io import DiscordIO
from familybot.services.container import Services, build_services
from familybot.tree import FamilyTree
from familybot.ui.views import PERSISTENT_ITEMS

log = logging.getLogger(__name__)

COGS: tuple[str, ...] = ("cogs.setup", "cogs.groups", "cogs.about")


def build_intents(settings: Settings) -> discord.Intents:
    # Guilds gives us roles and channels; nothing here needs members or message content.
    intents = discord.Intents.none()
    intents.guilds = True
    if settings.message_content_intent:
        intents.guild_messages = True
        intents.message_content = True
    return intents


class FamilyBot(commands.Bot):
    services: Services
    db: Database
    scheduler: AsyncIOScheduler

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, sync_commands: bool = True
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=build_intents(settings),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=FamilyTree,
            help_command=None,
        )
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.started_monotonic = time.monotonic()
        self.version = __version__
        self._sync_commands = sync_commands

    async def setup_hook(self) -> None:
        self.db = await Database.open(self.settings.database_path)
        applied = await migrate(self.db)
        if applied:
            log.info("database migrated to version %d", applied[-1].number)
        self.services = build_services(
            self.db, DiscordIO(self), self.clock, self.settings.default_timezone
        )
        # Jobs run on this loop; the database is the truth, the scheduler only a cache.
        self.scheduler = AsyncIOScheduler(
            event_loop=self.loop,
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        self.scheduler.start()
        for extension in COGS:
            await self.load_extension(extension)
        self.add_dynamic_items(*PERSISTENT_ITEMS)
        if self._sync_commands:
            await self._sync_tree()

    async def _sync_tree(self) -> None:
        if self.settings.dev_guild_id:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("commands synced to dev guild=%d count=%d", guild.id, len(synced))
        else:
            synced = await self.tree.sync()
            log.info("commands synced globally count=%d", len(synced))

    async def on_ready(self) -> None:
        log.info("ready user=%s guilds=%d", self.user.id if self.user else "?", len(self.guilds))

    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_monotonic

    async def close(self) -> None:
        scheduler = getattr(self, "scheduler", None)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        await super().close()
        db = getattr(self, "db", None)
        if db is not None:
            await db.close()
            log.info("database closed")

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("error in event %s", event_method)
