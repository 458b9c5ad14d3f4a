"""A recording SafetyPort and AutomodPort for unit tests of the safety watch and automod, plus a seeded world."""

from __future__ import annotations

from dataclasses import dataclass, field

from familybot.db.connection import Database
from familybot.db.repositories.groups import GroupRepository
from familybot.models import JoinMode
from familybot.models.moderation import ModLogEntry
from familybot.models.notices import Notice
from familybot.models.safety import CrisisDM, SafetyAlert, SeenMessage
from familybot.models.setup import Actor
from familybot.services.crisis.service import CrisisDirectory
from familybot.services.safety.english_model import light_detector
from familybot.services.safety.service import SafetyService
from tests.support.fakes import FakeClock
from tests.support.moderation_fakes import ModerationPort

GUILD = 1
GROUP_CHANNEL = 500
OTHER_CHANNEL = 501
ALERTS = 900
MODLOG = 901
FAC_ROLE = 77


@dataclass
class RecordingSafetyIO:
    dms: list[tuple[int, CrisisDM]] = field(default_factory=list)
    alerts: list[tuple[int, SafetyAlert]] = field(default_factory=list)
    deleted: list[tuple[int, int, str]] = field(default_factory=list)
    closed_dms: set[int] = field(default_factory=set)
    manage_messages: bool = True
    delete_fails: bool = False

    async def send_crisis_dm(self, user_id: int, dm: CrisisDM) -> bool:
        if user_id in self.closed_dms:
            return False
        self.dms.append((user_id, dm))
        return True

    async def post_safety_alert(self, channel_id: int, alert: SafetyAlert) -> bool:
        self.alerts.append((channel_id, alert))
        return True

    def can_manage_messages(self, channel_id: int) -> bool:
        return self.manage_messages

    async def delete_message(self, channel_id: int, message_id: int, reason: str) -> bool:
        if self.delete_fails:
            return False
        self.deleted.append((channel_id, message_id, reason))
        return True


@dataclass
class RecordingAutomod:
    """AutomodPort: messages removed through `io`, DMs and mod-log posts through `port`."""

    io: RecordingSafetyIO
    port: ModerationPort

    def can_manage_messages(self, channel_id: int) -> bool:
        return self.io.can_manage_messages(channel_id)

    async def delete_message(self, channel_id: int, message_id: int, reason: str) -> bool:
        return await self.io.delete_message(channel_id, message_id, reason)

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        return await self.port.send_dm(user_id, notice)

    async def post_mod_log(self, channel_id: int, entry: ModLogEntry) -> int | None:
        return await self.port.post_mod_log(channel_id, entry)


@dataclass
class SafetyWorld:
    db: Database
    service: SafetyService
    io: RecordingSafetyIO
    port: ModerationPort
    clock: FakeClock
    _next_id: int = 10_000

    def message(
        self,
        content: str,
        *,
        author: int = 42,
        channel: int = GROUP_CHANNEL,
        mentions: frozenset[int] = frozenset(),
        everyone: bool = False,
    ) -> SeenMessage:
        self._next_id += 1
        return SeenMessage(
            guild_id=GUILD,
            guild_name="Family Support",
            channel_id=channel,
            message_id=self._next_id,
            author_id=author,
            content=content,
            mention_ids=mentions,
            mention_everyone=everyone,
        )

    async def send(
        self, content: str, *, roles: frozenset[int] = frozenset(), **kwargs: object
    ) -> object:
        message = self.message(content, **kwargs)  # type: ignore[arg-type]
        actor = Actor(user_id=message.author_id, role_ids=roles, manage_guild=False)
        return await self.service.on_message(message, actor)


async def safety_world(
    db: Database, clock: FakeClock, *, watch: bool = True, automod: bool = True
) -> SafetyWorld:
    from familybot.wiring import SafetyParts, build_services

    port = ModerationPort()
    io = RecordingSafetyIO()
    services = build_services(
        db,
        port,
        clock,
        "America/New_York",
        # What every install watches with (the light rule: the lists, the English n-gram model
        # and the Spanish classifier), even where the optional English model is installed:
        # deterministic.
        safety=SafetyParts(
            io, RecordingAutomod(io, port), CrisisDirectory.load(), phrases=light_detector()
        ),
    )
    await GroupRepository(db).create(
        guild_id=GUILD,
        name="Parents Circle",
        description="d",
        focus="f",
        capacity=None,
        join_mode=JoinMode.OPEN,
        guidelines="g",
        role_id=300,
        channel_id=GROUP_CHANNEL,
        created_by=1,
        now=clock.now(),
    )
    await services.setup.set_facilitator_role(GUILD, FAC_ROLE)
    await services.setup.set_alerts_channel(GUILD, ALERTS)
    await services.setup.set_modlog_channel(GUILD, MODLOG)
    await services.setup.set_safety_watch(GUILD, watch)
    await services.setup.set_automod(GUILD, automod)
    service = services.safety
    assert service is not None
    return SafetyWorld(db=db, service=service, io=io, port=port, clock=clock)
