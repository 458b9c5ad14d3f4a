"""Everything services need, built once in setup_hook before any cog loads."""

from __future__ import annotations

from dataclasses import dataclass, field

from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.audit import AuditRepository
from familybot.db.repositories.calendar_feeds import CalendarFeedRepository
from familybot.db.repositories.crisis_lines import CrisisLineRepository
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
from familybot.db.repositories.sessions import SessionRepository
from familybot.db.repositories.settings import SettingsRepository
from familybot.db.repositories.welcome import WelcomePanelRepository
from familybot.services.audit import AuditService
from familybot.services.calendar_feed import CalendarFeedService
from familybot.services.crisis_config import CrisisConfigService
from familybot.services.diagnostics import DiagnosticsService
from familybot.services.events import EventsService
from familybot.services.facilitator_views import FacilitatorViewsService
from familybot.services.faq import FaqService
from familybot.services.group_access import GroupAccessUpgrade
from familybot.services.groups import GroupsService
from familybot.services.language import LanguageService
from familybot.services.linkcheck import LinkChecker
from familybot.services.moderation import ModerationService
from familybot.services.ports import DiscordPort
from familybot.services.privacy import KeptRecord, PrivacyService, UserDataHolder
from familybot.services.reminders import Dispatcher, Planner
from familybot.services.reports import ReportsService
from familybot.services.resources import ResourcesService
from familybot.services.sessions import SessionsService
from familybot.services.setup import SetupService
from familybot.services.welcome import WelcomeService
from familybot.sharding import ALL, ShardFilter


@dataclass
class Services:
    db: Database
    clock: Clock
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
    privacy: PrivacyService = field(init=False)
    # Read-only views for a group's own facilitators (/session rsvps, /group stats).
    facilitator_views: FacilitatorViewsService = field(init=False)
    # Where the start-here panel is (/setup welcome).
    welcome: WelcomeService = field(init=False)
    # Who reads which language (/my language, /setup language).
    language: LanguageService = field(init=False)

    def __post_init__(self) -> None:
        self.language = LanguageService(LanguageRepository(self.db), self.clock)
        self.welcome = WelcomeService(WelcomePanelRepository(self.db), self.clock)
        self.facilitator_views = FacilitatorViewsService(
            GroupStatsRepository(self.db),
            GroupRepository(self.db),
            SessionRepository(self.db),
            self.sessions,
            self.setup,
            self.clock,
        )
        self.privacy = PrivacyService(
            PrivacyRepository(self.db), self.user_data_holders(), self.clock
        )

    def user_data_holders(self) -> list[tuple[str, UserDataHolder]]:
        """Every service that stores something about a person, by the name its part of
        /my data carries: /my forget and the retention purges ask each one. A new feature that
        stores user ids adds itself here."""
        return [
            ("groups", self.groups),
            ("sessions", self.sessions),
            ("moderation", self.moderation),
            ("crisis_lines", self.crisis),
            ("faq", self.faq),
            ("resources", self.resources),
            ("reports", self.reports),
            ("calendar", self.calendar_feed),
            ("language", self.language),
            ("audit_log", KeptRecord(self.audit)),  # append-only: the server's record
        ]


def build_services(
    db: Database,
    discord: DiscordPort,
    clock: Clock,
    default_timezone: str,
    shards: ShardFilter = ALL,
    feed_base_url: str | None = None,
) -> Services:
    """``feed_base_url``: the public address of the live calendar links, or None when the
    feed is off (README "Live calendar links")."""
    settings_repo = SettingsRepository(db)
    group_repo = GroupRepository(db)
    session_repo = SessionRepository(db)
    reminder_repo = ReminderRepository(db)
    setup = SetupService(settings_repo, clock, default_timezone)
    groups = GroupsService(db, group_repo, settings_repo, discord, clock)
    planner = Planner(db, session_repo, group_repo, reminder_repo, clock, shards)
    dispatcher = Dispatcher(db, session_repo, group_repo, reminder_repo, discord, clock, shards)
    sessions = SessionsService(
        db, session_repo, group_repo, reminder_repo, groups, setup, discord, clock
    )

    sessions.on_change = planner.replan_ids  # the bot widens this to refresh its scheduler
    groups.next_session_lookup = sessions.next_session_start
    groups.next_sessions_lookup = sessions.next_session_starts
    groups.attendance_lookup = sessions.attendance_summary
    groups.on_group_changed = sessions.group_changed
    # Discord's Events panel; the bot composes its sync into the hooks above.
    events = EventsService(
        EventMirrorRepository(db),
        settings_repo,
        group_repo,
        session_repo,
        discord,
        clock,
        shards=shards,
    )
    return Services(
        db=db,
        clock=clock,
        setup=setup,
        groups=groups,
        sessions=sessions,
        planner=planner,
        dispatcher=dispatcher,
        reminders=reminder_repo,
        events=events,
        moderation=ModerationService(ModerationRepository(db), settings_repo, discord, clock),
        crisis=CrisisConfigService(settings_repo, CrisisLineRepository(db), clock),
        faq=FaqService(FaqRepository(db), clock),
        resources=ResourcesService(ResourceRepository(db), settings_repo, setup, discord, clock),
        link_checker=LinkChecker(ResourceRepository(db), clock),
        audit=AuditService(AuditRepository(db), group_repo, clock),
        diagnostics=DiagnosticsService(settings_repo, group_repo),
        reports=ReportsService(ReportRepository(db), settings_repo, discord, clock),
        group_access=GroupAccessUpgrade(groups, group_repo),
        calendar_feed=CalendarFeedService(
            CalendarFeedRepository(db), sessions, clock, feed_base_url
        ),
    )
