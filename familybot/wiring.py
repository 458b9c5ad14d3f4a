"""The composition root: every service is built here, once, and every domain event is
subscribed here, in `_subscribe`, so what one feature's change sets off in another can be
read in one place.

FamilyBot.setup_hook calls `build_services` (with the scheduler and the Discord adapters)
before any cog loads; tests and the command-line tools call it with fakes and without timers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.peers import Peers
from familybot.db.repositories.audit import AuditRepository
from familybot.db.repositories.calendar_feeds import CalendarFeedRepository
from familybot.db.repositories.crisis_lines import CrisisLineRepository
from familybot.db.repositories.digest_posts import DigestPostRepository
from familybot.db.repositories.events import EventMirrorRepository
from familybot.db.repositories.faq import FaqRepository
from familybot.db.repositories.group_stats import GroupStatsRepository
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.language import LanguageRepository
from familybot.db.repositories.moderation import ModerationRepository
from familybot.db.repositories.privacy import PrivacyRepository
from familybot.db.repositories.reminders import ReminderRepository
from familybot.db.repositories.reports import ReportRepository
from familybot.db.repositories.resources import ResourceRepository
from familybot.db.repositories.safety import SafetyRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.db.repositories.settings import SettingsRepository
from familybot.db.repositories.welcome import WelcomePanelRepository
from familybot.events import (
    EventBus,
    GroupChanged,
    SeriesChanged,
    UnbansCancelled,
    UnbanScheduled,
)
from familybot.models.crisis import CrisisLine
from familybot.scheduler.reminders import ReminderScheduler
from familybot.scheduler.unbans import UnbanScheduler
from familybot.services.audit.service import AuditService
from familybot.services.crisis.config import CrisisConfigService
from familybot.services.crisis.faq import FaqService
from familybot.services.crisis.service import CrisisDirectory
from familybot.services.groups.facilitator_views import FacilitatorViewsService
from familybot.services.groups.group_access import GroupAccessUpgrade
from familybot.services.groups.ports import GroupsPort
from familybot.services.groups.service import GroupsService
from familybot.services.moderation.automod import Automod, AutomodPort
from familybot.services.moderation.ports import ModerationPort
from familybot.services.moderation.service import ModerationService
from familybot.services.privacy.retention import (
    DEFAULT_LEDGER_KEEP_DAYS,
    DEFAULT_RETENTION_DAYS,
    MemberPresence,
    RetentionService,
)
from familybot.services.privacy.service import KeptRecord, PrivacyService, UserDataHolder
from familybot.services.reminders.planner import Planner
from familybot.services.reminders.ports import ReminderPort
from familybot.services.reminders.service import Dispatcher
from familybot.services.reports.service import ReportsPort, ReportsService
from familybot.services.resources.linkcheck import LinkChecker
from familybot.services.resources.ports import ResourcesPort
from familybot.services.resources.service import ResourcesService
from familybot.services.safety.model import bot_detector
from familybot.services.safety.service import SafetyService
from familybot.services.safety.watch import Detector, SafetyPort, SafetyWatch
from familybot.services.sessions.calendar_feed import CalendarFeedService
from familybot.services.sessions.ports import SessionsPort
from familybot.services.sessions.scheduled_events import EventsService, ScheduledEventsPort
from familybot.services.sessions.service import SessionsService
from familybot.services.sessions.session_schedule import SessionSchedule
from familybot.services.setup.diagnostics import DiagnosticsService
from familybot.services.setup.language import LanguageService
from familybot.services.setup.service import SetupService
from familybot.services.setup.welcome import WelcomeService
from familybot.sharding import ALL, ShardFilter


@dataclass(frozen=True)
class Adapters:
    """Each feature's port to Discord (the bot's are in familybot/discord/)."""

    groups: GroupsPort
    sessions: SessionsPort
    reminders: ReminderPort
    events: ScheduledEventsPort
    moderation: ModerationPort
    resources: ResourcesPort
    reports: ReportsPort

    @classmethod
    def of(cls, port: AllPorts) -> Adapters:
        """One object serving every feature, as the tests' recording fakes do."""
        return cls(port, port, port, port, port, port, port)


class AllPorts(
    GroupsPort,
    SessionsPort,
    ReminderPort,
    ScheduledEventsPort,
    ModerationPort,
    ResourcesPort,
    ReportsPort,
    Protocol,
):
    """Every feature's port at once: only for fakes (the bot has one adapter per port)."""


@dataclass(frozen=True)
class SafetyParts:
    """What the safety watch and automod need beyond the services (the bot has them all;
    tests of other features leave the watch out)."""

    watch: SafetyPort
    automod: AutomodPort
    directory: CrisisDirectory
    phrases: Detector | None = None  # None: the shipped phrase lists (bot_detector)


@dataclass(frozen=True)
class Retention:
    retention_days: int = DEFAULT_RETENTION_DAYS
    ledger_keep_days: int = DEFAULT_LEDGER_KEEP_DAYS
    # False when the Server Members intent already reports every departure.
    check_members: bool = True


@dataclass
class Services:
    db: Database
    clock: Clock
    bus: EventBus
    setup: SetupService
    groups: GroupsService
    sessions: SessionsService
    planner: Planner
    dispatcher: Dispatcher
    reminders: ReminderRepository
    events: EventsService
    moderation: ModerationService
    crisis: CrisisConfigService
    faq: FaqService
    resources: ResourcesService
    link_checker: LinkChecker
    audit: AuditService
    diagnostics: DiagnosticsService
    reports: ReportsService
    group_access: GroupAccessUpgrade
    calendar_feed: CalendarFeedService
    privacy: PrivacyService
    # Read-only views for a group's own facilitators (/session rsvps, /group stats).
    facilitator_views: FacilitatorViewsService
    # Where the start-here panel is (/setup welcome).
    welcome: WelcomeService
    # Who reads which language (/my language, /setup language).
    language: LanguageService
    # Old RSVPs and attendance, and 30 days after a member or the bot left a server.
    retention: RetentionService
    # Timed work; None without a scheduler (tests, command-line tools).
    reminder_scheduler: ReminderScheduler | None = None
    unban_scheduler: UnbanScheduler | None = None
    # Safety watch and automod: None unless SafetyParts were given.
    safety: SafetyService | None = field(default=None)

    def user_data_holders(self) -> list[tuple[str, UserDataHolder]]:
        return _user_data_holders(
            self.groups,
            self.sessions,
            self.moderation,
            self.crisis,
            self.faq,
            self.resources,
            self.reports,
            self.calendar_feed,
            self.language,
            self.audit,
        )


def _user_data_holders(
    groups: GroupsService,
    sessions: SessionsService,
    moderation: ModerationService,
    crisis: CrisisConfigService,
    faq: FaqService,
    resources: ResourcesService,
    reports: ReportsService,
    calendar: CalendarFeedService,
    language: LanguageService,
    audit: AuditService,
) -> list[tuple[str, UserDataHolder]]:
    """Every service that stores something about a person, by the name its part of
    /my data carries: /my forget and the retention purges ask each one. A new feature that
    stores user ids adds itself here."""
    return [
        ("groups", groups),
        ("sessions", sessions),
        ("moderation", moderation),
        ("crisis_lines", crisis),
        ("faq", faq),
        ("resources", resources),
        ("reports", reports),
        ("calendar", calendar),
        ("language", language),
        ("audit_log", KeptRecord(audit)),  # append-only: the server's record
    ]


def build_services(
    db: Database,
    discord: Adapters | AllPorts,
    clock: Clock,
    default_timezone: str,
    *,
    shards: ShardFilter = ALL,
    feed_base_url: str | None = None,
    presence: MemberPresence | None = None,
    scheduler: AsyncIOScheduler | None = None,
    safety: SafetyParts | None = None,
    retention: Retention = Retention(),
    events_panel: bool = False,
    peers: Peers | None = None,
) -> Services:
    """``feed_base_url``: the public address of the live calendar links, or None when the
    feed is off (README "Live calendar links"). ``presence`` asks Discord whether someone is
    still on a server; ``scheduler``, when given, gets the reminder and timed-ban jobs.
    ``events_panel``: keep Discord's Events panel in step with every change, in background
    tasks (the bot does; tests of other features leave it out, so no sync outlives them)."""
    ports = discord if isinstance(discord, Adapters) else Adapters.of(discord)
    bus = EventBus()
    settings_repo = SettingsRepository(db)
    group_repo = GroupRepository(db)
    session_repo = SessionRepository(db)
    reminder_repo = ReminderRepository(db)
    resource_repo = ResourceRepository(db)
    setup = SetupService(settings_repo, clock, default_timezone)
    # Read by groups (next sessions, attendance) without depending on the sessions service.
    schedule = SessionSchedule(session_repo, clock)
    groups = GroupsService(db, group_repo, settings_repo, ports.groups, clock, bus, schedule)
    planner = Planner(db, session_repo, group_repo, reminder_repo, clock, shards)
    dispatcher = Dispatcher(
        db, session_repo, group_repo, reminder_repo, ports.reminders, clock, shards, peers
    )
    sessions = SessionsService(
        db,
        session_repo,
        group_repo,
        reminder_repo,
        groups,
        setup,
        ports.sessions,
        clock,
        bus,
        schedule,
    )
    crisis = CrisisConfigService(settings_repo, CrisisLineRepository(db), clock)
    moderation = ModerationService(
        ModerationRepository(db), settings_repo, ports.moderation, clock, bus
    )
    faq = FaqService(FaqRepository(db), clock)
    resources = ResourcesService(
        resource_repo, settings_repo, setup, ports.resources, clock, DigestPostRepository(db)
    )
    reports = ReportsService(ReportRepository(db), settings_repo, ports.reports, clock)
    calendar_feed = CalendarFeedService(
        CalendarFeedRepository(db), sessions, clock, feed_base_url, presence
    )
    audit = AuditService(AuditRepository(db), group_repo, clock)
    language = LanguageService(LanguageRepository(db), clock)
    privacy = PrivacyService(
        PrivacyRepository(db),
        _user_data_holders(
            groups,
            sessions,
            moderation,
            crisis,
            faq,
            resources,
            reports,
            calendar_feed,
            language,
            audit,
        ),
        clock,
    )
    s = Services(
        db=db,
        clock=clock,
        bus=bus,
        setup=setup,
        groups=groups,
        sessions=sessions,
        planner=planner,
        dispatcher=dispatcher,
        reminders=reminder_repo,
        # Discord's Events panel (/setup events), kept in step through the events below.
        events=EventsService(
            EventMirrorRepository(db),
            settings_repo,
            group_repo,
            session_repo,
            ports.events,
            clock,
            shards=shards,
        ),
        moderation=moderation,
        crisis=crisis,
        faq=faq,
        resources=resources,
        link_checker=LinkChecker(resource_repo, clock),
        audit=audit,
        diagnostics=DiagnosticsService(settings_repo, group_repo),
        reports=reports,
        group_access=GroupAccessUpgrade(groups, group_repo),
        calendar_feed=calendar_feed,
        privacy=privacy,
        welcome=WelcomeService(WelcomePanelRepository(db), clock),
        language=language,
        facilitator_views=FacilitatorViewsService(
            GroupStatsRepository(db), group_repo, session_repo, sessions, setup, clock
        ),
        retention=RetentionService(
            privacy,
            PrivacyRepository(db),
            clock,
            retention_days=retention.retention_days,
            ledger_keep_days=retention.ledger_keep_days,
            presence=presence,
            check_members=retention.check_members,
            shards=shards,
            peers=peers,
        ),
    )
    if scheduler is not None:
        # The database is the truth, the scheduler only a cache: jobs are rebuilt at start.
        s.reminder_scheduler = ReminderScheduler(
            scheduler, planner, dispatcher, reminder_repo, clock
        )
        s.unban_scheduler = UnbanScheduler(scheduler, moderation, clock, shards)
    if safety is not None:
        s.safety = _build_safety(db, safety, setup, crisis, clock)
    _subscribe(s, events_panel=events_panel)
    return s


def _subscribe(s: Services, *, events_panel: bool) -> None:
    """Every cross-feature reaction, in the order it runs."""
    bus = s.bus
    # A series' schedule, audience or offsets changed: re-plan its reminders (and, with a
    # scheduler, give the newly due ones their jobs), then re-sync the Events panel in the
    # background.
    timers = s.reminder_scheduler
    if timers is not None:
        bus.subscribe(SeriesChanged, lambda e: timers.series_changed(e.series_ids))
    else:
        bus.subscribe(SeriesChanged, lambda e: s.planner.replan_ids(e.series_ids))
    if events_panel:
        bus.subscribe(SeriesChanged, lambda e: s.events.series_changed_soon(e.series_ids))
    # Who is seated, reminder times, name or status of a group changed: its series change
    # (SeriesChanged above), then the group's events are re-synced in the background.
    bus.subscribe(GroupChanged, lambda e: s.sessions.groups_changed(e.group_ids))
    if events_panel:
        bus.subscribe(GroupChanged, lambda e: s.events.groups_changed_soon(e.group_ids))
    # Timed bans: the scheduler's jobs follow the scheduled_unbans rows.
    unbans = s.unban_scheduler
    if unbans is not None:
        bus.subscribe(UnbanScheduled, lambda e: unbans.schedule(e.case_id, e.due_at))
        bus.subscribe(UnbansCancelled, lambda e: unbans.cancel(e.case_ids))


def _build_safety(
    db: Database,
    parts: SafetyParts,
    setup: SetupService,
    crisis: CrisisConfigService,
    clock: Clock,
) -> SafetyService:
    directory = parts.directory

    def crisis_lines_for(guild_id: int) -> tuple[str | None, Sequence[CrisisLine]]:
        # The same lines /crisis shows on this server, from memory (no database needed).
        known = crisis.cached(guild_id)
        region = known.region if known else None
        return region, directory.lines_for(region, known.local_lines if known else ())

    # The matcher, or the matcher or the classifier when the safety-model extra is installed.
    watch = SafetyWatch(parts.phrases or bot_detector(), parts.watch, crisis_lines_for, clock)
    automod = Automod(ModerationRepository(db), parts.automod, clock)
    return SafetyService(SafetyRepository(db), setup, watch, automod)
