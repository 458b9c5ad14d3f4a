"""Everything services need, built once in setup_hook before any cog loads."""

from __future__ import annotations

from dataclasses import dataclass

from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.settings import SettingsRepository
from familybot.services.groups import GroupsService
from familybot.services.ports import DiscordPort
from familybot.services.setup import SetupService


@dataclass
class Services:
    db: Database
    clock: Clock
    setup: SetupService
    groups: GroupsService


def build_services(
    db: Database, discord: DiscordPort, clock: Clock, default_timezone: str
) -> Services:
    settings_repo = SettingsRepository(db)
    group_repo = GroupRepository(db)
    return Services(
        db=db,
        clock=clock,
        setup=SetupService(settings_repo, clock, default_timezone),
        groups=GroupsService(db, group_repo, settings_repo, discord, clock),
    )
