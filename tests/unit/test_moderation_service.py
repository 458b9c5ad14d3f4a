"""ModerationService against real SQLite and a recording port."""

from __future__ import annotations

from datetime import timedelta

import pytest

from familybot.db.connection import Database
from familybot.errors import NotAllowed, NotFound
from familybot.events import UnbanScheduled
from familybot.models.moderation import CaseStatus
from familybot.services.moderation.rules import Action, BotSelf, Person
from familybot.services.moderation.service import ModerationService, ModRequest
from familybot.wiring import Services, build_services
from tests.support.fakes import FakeClock
from tests.support.moderation_fakes import ModerationPort

pytestmark = pytest.mark.asyncio

GUILD, OTHER_GUILD, MODLOG = 1, 2, 500
FAC = Person(user_id=10, top_position=5)
ALICE = Person(user_id=20, top_position=1)
BOT = BotSelf(user_id=99, top_position=8, permissions=(1 << 41) - 1 & ~(1 << 3))


@pytest.fixture
def mport() -> ModerationPort:
    return ModerationPort()


@pytest.fixture
async def mod_services(db: Database, mport: ModerationPort, clock: FakeClock) -> Services:
    services = build_services(db, mport, clock, "UTC")
    await services.setup.set_modlog_channel(GUILD, MODLOG)
    return services


@pytest.fixture
def mod(mod_services: Services) -> ModerationService:
    return mod_services.moderation


def req(action: Action, target: Person | None = ALICE, **extra: object) -> ModRequest:
    return ModRequest(
        guild_id=extra.pop("guild_id", GUILD),  # type: ignore[arg-type]
        action=action,
        actor=FAC,
        bot=BOT,
        target=target,
        reason=extra.pop("reason", "Please be kind"),  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


async def test_cases_are_numbered_per_server_and_logged(
    mod: ModerationService, mport: ModerationPort
) -> None:
    first = await mod.act(req(Action.WARN))
    second = await mod.act(req(Action.NOTE, reason="Seemed upset; checked in"))
    elsewhere = await mod.act(req(Action.WARN, guild_id=OTHER_GUILD))
    assert (first.case.number, second.case.number, elsewhere.case.number) == (1, 2, 1)
    assert first.case.status is CaseStatus.DONE and first.modlog_posted
    assert elsewhere.modlog_missing and not elsewhere.modlog_posted
    assert [e.number for _, e in mport.modlog] == [1, 2]
    assert first.case.dm == "sent" and second.case.dm is None  # notes are never sent
    assert [uid for uid, _ in mport.dms] == [ALICE.user_id, ALICE.user_id]
    assert "Please be kind" in mport.dms[0][1].body


async def test_refusals_store_and_send_nothing(
    mod: ModerationService, mport: ModerationPort
) -> None:
    for request in (
        req(Action.KICK, target=FAC),
        req(Action.BAN, target=Person(user_id=30, is_owner=True)),
        req(Action.TIMEOUT, length=timedelta(days=29)),
        req(Action.TIMEOUT),  # no length
        req(Action.KICK, target=Person(user_id=31, top_position=5)),
        req(Action.PURGE, target=None, channel_id=7, amount=0),
    ):
        with pytest.raises(NotAllowed):
            await mod.act(request)
    assert mport.calls == []
    assert await mod.history(GUILD, ALICE.user_id) == []


async def test_timeout_uses_the_expiry_and_tells_them_after(
    mod: ModerationService, mport: ModerationPort, clock: FakeClock
) -> None:
    out = await mod.act(req(Action.TIMEOUT, length=timedelta(days=28)))
    assert mport.names()[:2] == ["timeout_member", "send_dm"]
    assert mport.calls[0][1][2] == clock.now() + timedelta(days=28)
    assert out.case.expires_at == clock.now() + timedelta(days=28)
    await mod.act(req(Action.UNTIMEOUT))
    assert ("timeout_member", (GUILD, ALICE.user_id, None, "Case 2: Please be kind")) in mport.calls


async def test_kick_and_ban_tell_first_and_note_closed_dms(
    mod: ModerationService, mport: ModerationPort
) -> None:
    mport.closed_dms.add(ALICE.user_id)
    out = await mod.act(req(Action.KICK))
    assert mport.names()[:2] == ["send_dm", "kick_member"]
    assert out.case.dm == "closed" and mport.modlog[-1][1].dm == "closed"
    mport.calls.clear()
    await mod.act(req(Action.BAN, delete_message_seconds=3600))
    assert mport.names()[:2] == ["send_dm", "ban_user"]
    assert mport.calls[1][1][2] == 3600


async def test_a_refused_discord_call_records_a_failed_case(
    mod: ModerationService, mport: ModerationPort
) -> None:
    mport.fail.add("kick_member")
    out = await mod.act(req(Action.KICK))
    assert out.case.status is CaseStatus.FAILED and out.error
    assert mport.modlog[-1][1].status == "failed"
    (stored,) = await mod.history(GUILD, ALICE.user_id)
    assert stored.status is CaseStatus.FAILED


async def test_reason_changes_keep_history(mod: ModerationService, mport: ModerationPort) -> None:
    await mod.act(req(Action.WARN, reason="first"))
    case, posted, _ = await mod.change_reason(GUILD, 1, "second", FAC.user_id)
    assert case.reason == "second" and posted
    assert mport.modlog[-1][1].heading == "Reason updated"
    view = await mod.view_case(GUILD, 1)
    assert [(c.old_reason, c.new_reason) for c in view.reason_history] == [("first", "second")]
    with pytest.raises(NotFound):
        await mod.view_case(GUILD, 9)


async def test_purge_slowmode_and_lock_are_cases_about_a_channel(
    mod: ModerationService, mport: ModerationPort, clock: FakeClock
) -> None:
    out = await mod.act(req(Action.PURGE, target=None, channel_id=7, amount=50))
    assert out.case.detail == "Removed 3 messages. 1 older than 14 days left alone."
    assert mport.calls[0][1][3] == clock.now() - timedelta(days=14)
    out = await mod.act(req(Action.SLOWMODE, target=None, channel_id=7, slowmode_seconds=30))
    assert out.case.channel_id == 7 and out.case.target_id is None
    await mod.act(req(Action.LOCK, target=None, channel_id=7))
    assert ("set_channel_locked", (GUILD, 7, True, "Case 3: Please be kind")) in mport.calls


async def test_timed_ban_is_lifted_once_when_due(
    mod: ModerationService, mod_services: Services, mport: ModerationPort, clock: FakeClock
) -> None:
    scheduled: list[tuple[int, object]] = []

    async def on_scheduled(event: UnbanScheduled) -> None:
        scheduled.append((event.case_id, event.due_at))

    mod_services.bus.subscribe(UnbanScheduled, on_scheduled)
    out = await mod.act(req(Action.BAN, length=timedelta(days=3)))
    assert scheduled == [(out.case.id, clock.now() + timedelta(days=3))]
    assert await mod.lift_timed_ban(out.case.id) == clock.now() + timedelta(days=3)  # not yet
    clock.advance(days=3)
    assert await mod.lift_timed_ban(out.case.id) is None
    assert await mod.lift_timed_ban(out.case.id) is None  # a second run changes nothing
    assert mport.names().count("unban_user") == 1 and not mport.banned
    latest = (await mod.history(GUILD, ALICE.user_id))[0]
    assert latest.action == "unban" and latest.actor_id == 0 and latest.number == 2


async def test_failed_lift_is_retried_and_manual_unban_settles_it(
    mod: ModerationService, mport: ModerationPort, clock: FakeClock
) -> None:
    out = await mod.act(req(Action.BAN, length=timedelta(hours=1)))
    clock.advance(hours=2)
    mport.fail.add("unban_user")
    retry = await mod.lift_timed_ban(out.case.id)
    assert retry is not None and retry > clock.now()
    mport.fail.clear()
    await mod.act(req(Action.UNBAN))
    assert await mod.pending_unbans() == []
    assert await mod.lift_timed_ban(out.case.id) is None
