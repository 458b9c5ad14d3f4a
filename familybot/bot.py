"""FamilyBot: database, services and scheduler are built before any cog loads."""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from discord.ext import commands

from familybot import __version__, i18n
from familybot.backup_daily import daily_backup
from familybot.clock import Clock, SystemClock
from familybot.config import Settings
from familybot.db.connection import Database
from familybot.db.lease import peers_for
from familybot.db.migrate import migrate
from familybot.db.repositories.job_runs import JobRunRepository
from familybot.discord.adapters import build_intents as build_intents
from familybot.discord.adapters import discord_adapters
from familybot.discord.notices import REMINDER_RATE, DiscordNotices
from familybot.discord.pacing import StartupPacing
from familybot.discord.presence import DiscordPresence
from familybot.discord.safety import DiscordAutomod, DiscordSafetyWatch
from familybot.files import tighten_install
from familybot.gc_quiet import quiet_start
from familybot.i18n_discord import FamilyTranslator, sync_translated
from familybot.interaction_gate import InteractionGate
from familybot.scheduler.leader import Leadership
from familybot.scheduler.reminders import JOB_DEFAULTS, ReminderScheduler
from familybot.scheduler.unbans import UnbanScheduler
from familybot.services.crisis.service import CrisisDirectory
from familybot.services.privacy.retention import RetentionService
from familybot.services.reminders.planner import PLAN_INTERVAL
from familybot.services.safety.service import SafetyService
from familybot.services.setup.language import REFRESH_JOB_SECONDS
from familybot.sharding import ShardFilter
from familybot.starting import Startup, connecting
from familybot.tree import FamilyTree
from familybot.tree_audit import dm_failure_notice, record_command
from familybot.warm_up import WarmUp
from familybot.wiring import Retention, SafetyParts, Services, build_services

if TYPE_CHECKING:
    from familybot.feed_server import FeedServer

log = logging.getLogger(__name__)

COGS: tuple[str, ...] = (
    "cogs.setup",
    "cogs.groups",
    "cogs.sessions",
    "cogs.my",
    "cogs.about",
    "cogs.moderation",
    "cogs.crisis",
    "cogs.faq",
    "cogs.resources",
    "cogs.reports",
    "cogs.privacy_events",
    "cogs.safety",
    "cogs.help",
)

# Jobs over the whole database (not per server): only the leader runs them (db/peers.py).
PRIMARY_ONLY_JOBS: tuple[str, ...] = ("resource-review", "link-check", "backup")

# Set in a command's `extras` when it must neither touch the database nor note who used it.
NO_RECORD = "familybot_no_record"


class FamilyBot(commands.AutoShardedBot):
    services: Services
    db: Database
    scheduler: AsyncIOScheduler
    reminder_scheduler: ReminderScheduler
    unban_scheduler: UnbanScheduler
    crisis_directory: CrisisDirectory
    retention: RetentionService
    safety: SafetyService

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, sync_commands: bool = True
    ) -> None:
        # No voice here: only discord.py's two warnings that PyNaCl and davey are missing go.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        sid = settings.shard_ids  # discord.py wants shard_ids absent, not None, for all shards
        ids: dict[str, Any] = {} if sid is None else {"shard_ids": [*sid]}
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=build_intents(settings),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=FamilyTree,
            help_command=None,
            # None: ask Discord how many shards (one, for all but very large bots).
            shard_count=settings.shard_count,
            **ids,
        )
        # Which servers this process's scheduled work may touch (README "Scale-out").
        self.shard_filter = ShardFilter.of(settings.shard_count, settings.shard_ids)
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.started_monotonic = time.monotonic()
        self.version = __version__
        self._sync_commands = sync_commands
        self._completion_hooks: set[asyncio.Task[Any]] = set()
        self._upgrade_task: asyncio.Task[Any] | None = None
        self._startup = Startup()
        self._closed: asyncio.Future[None] | None = None  # close()'s run, kept to its end
        self.warm_up = WarmUp()  # begun once ready (#15)
        self.planning_may_start = asyncio.Event()  # the first reminder planning pass (#15)
        self._planning_task: asyncio.Task[None] | None = None
        self.feed_server: FeedServer | None = None
        # Each interaction: claimed in the database (one process of a shard handles it), then
        # parsed in that person's language (familybot/interaction_gate.py).
        self.interaction_gate = InteractionGate(self._connection.parsers)

    async def setup_hook(self) -> None:
        with quiet_start():  # no garbage collection stalls the loop while starting (#15)
            await self._startup.run(self._setup())  # a stop meanwhile lets it end first

    async def _setup(self) -> None:
        # Cogs' modules (60-130 ms of CPU) import in a worker; load_extension runs their bodies.
        cog_modules = asyncio.create_task(
            asyncio.to_thread(lambda: [importlib.import_module(name) for name in COGS])
        )
        # Crisis lines first and from the shipped file alone: /crisis must work without the db.
        self.crisis_directory = CrisisDirectory.load()
        log.info("crisis lines loaded count=%d", len(self.crisis_directory))
        # Message catalogs, read once (cost logged). Babel's date names and the safety watch's
        # phrases are built in workers once ready (familybot/warm_up.py, #15).
        i18n.load_catalogs()
        # Database and backups readable by this user only (loose modes from older versions).
        tighten_install(self.settings.database_path, self.settings.backup_dir)
        self.db = await Database.connect(self.settings.database_target)
        applied = await migrate(self.db)
        if applied:
            log.info("database migrated to version %d", applied[-1].number)
        # Jobs run on this loop; the database is the truth, the scheduler only a cache.
        self.scheduler = AsyncIOScheduler(event_loop=self.loop, job_defaults=JOB_DEFAULTS)
        self.scheduler.start()
        # The processes sharing the database: whose reminder claims stand, who leads.
        shards = self.shard_filter
        self.peers = peers_for(self.db, self.settings.database_url, shards)
        await self.peers.start()
        # Discord's global limit is per bot: this process paces reminders to its shards' part.
        notices = DiscordNotices(self, rate=shards.share(REMINDER_RATE))
        self.pacing = StartupPacing(self.http, notices.limiter)  # start-up calls paced too
        sync = self._sync_tree if self._sync_commands else None
        runs = JobRunRepository(self.db)  # each database-wide job once per period
        self.leadership = Leadership(
            self.scheduler, self.peers, sync, limiter=notices.limiter, budget=REMINDER_RATE
        )
        self.leadership.claims(runs, self.clock)
        await self.leadership.pace()
        # Every service, once, with its event subscriptions (familybot/wiring.py).
        self.services = build_services(
            self.db,
            discord_adapters(self, notices),
            self.clock,
            self.settings.default_timezone,
            shards=self.shard_filter,
            feed_base_url=self.settings.calendar_feed_base_url
            if self.settings.calendar_feed_enabled
            else None,
            # Privacy: is this person still here, which servers remain.
            presence=DiscordPresence(self),
            scheduler=self.scheduler,
            events_panel=True,
            peers=self.peers,
            # Safety watch and automod: opt-in per server; they see text only with the intent.
            safety=SafetyParts(
                DiscordSafetyWatch(self),
                DiscordAutomod(self, notices),
                self.crisis_directory,
                self.warm_up.phrases,
            ),
            retention=Retention(
                retention_days=self.settings.retention_days,
                ledger_keep_days=self.settings.ledger_keep_days,
                check_members=not self.settings.members_intent,
            ),
        )
        self.interaction_gate.open(self.db, self.clock, self.scheduler)  # from now: claimed
        # Who reads which language: in memory (a dict get), reread every few seconds (#16).
        await self.services.language.load()
        self.scheduler.add_job(
            self.services.language.refresh,
            IntervalTrigger(seconds=REFRESH_JOB_SECONDS),
            id="language-refresh",
            replace_existing=True,
            **JOB_DEFAULTS,
        )
        # Command names and descriptions in the user's Discord language (Spanish for now).
        await self.tree.set_translator(FamilyTranslator())
        assert self.services.reminder_scheduler is not None
        assert self.services.unban_scheduler is not None
        assert self.services.safety is not None
        self.reminder_scheduler = self.services.reminder_scheduler
        self.unban_scheduler = self.services.unban_scheduler
        self.safety = self.services.safety
        self.retention = self.services.retention
        # Discord's Events panel: synced after each change and once per planner interval.
        self.scheduler.add_job(
            self.services.events.sync_due,
            IntervalTrigger(seconds=PLAN_INTERVAL.total_seconds()),
            id="scheduled-events",
            replace_existing=True,
            **JOB_DEFAULTS,
        )
        # Its first planning pass waits for ready (on_ready sets this, #15).
        await self.reminder_scheduler.start(self.planning_may_start)
        self._add_daily_jobs()
        # Timed bans: jobs rebuilt from the database; bans that ended while down are lifted now.
        await self.unban_scheduler.start()
        try:
            await self.services.crisis.warm()
        except Exception:  # /crisis then shows the default lines until a server changes them
            log.exception("could not load servers' crisis regions")
        await cog_modules  # each cog registers its own persistent buttons and menus as it loads
        for extension in COGS:
            await self.load_extension(extension)
            await asyncio.sleep(0)  # loading a cog is CPU work: let the loop run between cogs
        log.info("scheduled work for %s", self.shard_filter.describe())
        await self._start_feed()
        # Commands are global to the application: the leader syncs them when it starts leading.
        await self.leadership.start()

    async def _start_feed(self) -> None:
        """Live calendar links (off unless CALENDAR_FEED_ENABLED): one HTTP server, on shard 0."""
        settings = self.settings
        if not settings.calendar_feed_enabled or not self.shard_filter.primary:
            return
        # aiohttp's web server is imported only when the feed is on (issue 15: start-up).
        from familybot.feed_server import FeedServer

        server = FeedServer(
            self.services.calendar_feed, settings.calendar_feed_host, settings.calendar_feed_port
        )
        await server.start()  # FeedServerError: one line saying what to change
        self.feed_server = server

    def _add_daily_jobs(self) -> None:
        """Upkeep on fixed times (UTC): the library's review digest (once a week) and link
        check, the backup, and retention. Database-wide ones run only in the leading process,
        each once per period whoever leads (familybot/scheduler/leader.py)."""
        lead = self.leadership
        week = timedelta(days=7)
        digest = CronTrigger(day_of_week="mon", hour=9, timezone="UTC")
        lead.add("resource-review", self.services.resources.post_review_digest, digest, week)
        link_check = CronTrigger(hour=4, minute=30, timezone="UTC")
        lead.add("link-check", self.services.link_checker.run, link_check)
        backup_at = CronTrigger(hour=self.settings.backup_hour_utc, minute=0, timezone="UTC")
        lead.add("backup", self.scheduled_backup, backup_at)
        # Its per-server part is shard-filtered inside; its age-based sweep runs in the leader.
        retention = CronTrigger(hour=5, minute=15, timezone="UTC")
        self.scheduler.add_job(
            self.retention.run, retention, id="retention", replace_existing=True, **JOB_DEFAULTS
        )

    async def _sync_tree(self) -> None:
        if self.settings.dev_guild_id:  # sync_translated: tree.sync, translating off the loop
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await sync_translated(self.tree, guild=guild)
            log.info("commands synced to dev guild=%d count=%d", guild.id, len(synced))
        else:
            synced = await sync_translated(self.tree)
            log.info("commands synced globally count=%d", len(synced))

    async def on_ready(self) -> None:
        log.info("ready user=%s guilds=%d", self.user.id if self.user else "?", len(self.guilds))
        self.pacing.ready()  # connected: its start-up calls no longer go ahead of reminders
        self.warm_up.start()  # the safety phrases and Babel's dates, in workers (once)
        if self._planning_task is None:  # the first reminder planning pass, after the warm-up
            self._planning_task = asyncio.create_task(self._plan_after_warm_up())
        if self.settings.message_content_intent:  # take a part of the members' messages
            await self.leadership.routing.join()
        # Groups made before per-person channel access still have a role: replace it (idempotent).
        if self._upgrade_task is None or self._upgrade_task.done():
            self._upgrade_task = asyncio.create_task(self.upgrade_group_access())

    async def _plan_after_warm_up(self) -> None:
        """The first planning pass after the warm-up's workers, not beside them: three threads
        taking turns with the GIL held the loop 40-55 ms on a busy machine (bench)."""
        await self.warm_up.wait()
        self.planning_may_start.set()

    async def upgrade_group_access(self) -> None:
        guild_ids = [g.id for g in self.guilds if self.shard_filter.owns(g.id)]
        try:
            await self.services.group_access.run(guild_ids)
        except Exception:
            log.exception("group access upgrade failed; it is tried again at the next start")
        finally:
            self.pacing.stop()  # start-up done: commands' calls need not wait for reminders

    async def on_app_command_completion(
        self, interaction: discord.Interaction[Any], command: Any
    ) -> None:
        # Tell someone privately, the next time they use the bot, that a DM did not reach them.
        if getattr(command, "extras", {}).get(NO_RECORD):
            return  # e.g. /crisis: touches no database and leaves no trace of who asked
        # close() waits for these, so a command finishing at shutdown still gets its entry.
        task = asyncio.current_task()
        if task is not None:
            self._completion_hooks.add(task)
        try:
            # Facilitator and admin commands go in the audit log (the reply is already sent).
            await record_command(interaction, command)
            if await self.services.sessions.take_dm_failure_notice(interaction.user.id):
                await interaction.followup.send(dm_failure_notice(), ephemeral=True)
        except discord.HTTPException:
            log.warning("could not deliver dm-failure notice user=%d", interaction.user.id)
        finally:
            if task is not None:
                self._completion_hooks.discard(task)

    async def scheduled_backup(self) -> None:
        """The daily backup into BACKUP_DIR, keeping BACKUP_KEEP; a failure is logged only."""
        await daily_backup(self.settings)

    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_monotonic

    async def start(self, token: str, *, reconnect: bool = True) -> None:
        # A stop while it logs in or looks up the Gateway: the closed session's error is none.
        await connecting(super().start(token, reconnect=reconnect), lambda: self._startup.asked)

    async def launch_shards(self) -> None:
        if self._closed is None:  # a stop during start-up: no connecting once it has begun
            await super().launch_shards()  # (a closed session's connect is retried forever)

    async def shutdown(self) -> None:  # a stop from outside (SIGTERM, Ctrl-C)
        self._startup.asked = True
        await self.close()

    async def close(self) -> None:  # one run, whoever asks; `async with` waits for all of it
        if self._closed is None:
            self._closed = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closed)

    async def __aexit__(self, *exc: Any) -> None:
        await super().__aexit__(*exc)
        if self._closed is not None:
            await self._closed

    async def _close(self) -> None:
        await self._startup.stop()  # SIGTERM while starting: nothing closes under start-up
        await self.interaction_gate.close()  # new interactions: to another process, if any
        if getattr(self, "leadership", None) is not None:  # members' messages too
            await self.leadership.routing.leave()
        if self._upgrade_task is not None and not self._upgrade_task.done():
            self._upgrade_task.cancel()
        if self._planning_task is not None and not self._planning_task.done():
            self._planning_task.cancel()
        await self.warm_up.stop()  # its hold on the garbage collector goes with it
        if self.feed_server is not None:  # no new feed requests while the rest shuts down
            await self.feed_server.stop()
            self.feed_server = None
        if getattr(self, "leadership", None) is not None:  # database-wide jobs: a grace
            await self.leadership.stop()
        scheduler = getattr(self, "scheduler", None)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        if getattr(self, "reminder_scheduler", None) is not None:
            await self.reminder_scheduler.stop()
        services = getattr(self, "services", None)
        if services is not None:
            await services.events.settle(timeout=5)
        if self._completion_hooks:  # audit entries and notices of commands just answered
            await asyncio.wait(set(self._completion_hooks), timeout=5)
        await super().close()
        peers = getattr(self, "peers", None)
        if peers is not None:  # another process takes over the database-wide jobs
            await peers.close()
        db = getattr(self, "db", None)
        if db is not None:
            await db.close()
            log.info("database closed")

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("error in event %s", event_method)
