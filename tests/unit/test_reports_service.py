"""The reports service on real SQLite with a fake clock and a recording Discord side."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from familybot.db.connection import Database
from familybot.db.repositories.reports import ReportRepository
from familybot.db.repositories.settings import SettingsRepository
from familybot.errors import Conflict, DiscordActionFailed, NotAllowed, UserFacingError
from familybot.models.reports import (
    AskRequest,
    ContactAlert,
    PrivateContact,
    PrivateSpace,
    ReportCategory,
    ReportKind,
    ReportRequest,
)
from familybot.services.reports.service import ReportsService
from familybot.ui.reports import alert_text, opening_text, question_text
from tests.support.fakes import FakeClock

GUILD, CHANNEL, ROLE, ALERTS = 1, 20, 30, 40
ALICE, BOB, CAROL = 101, 102, 103


@dataclass
class ThreadsPort:
    """The two methods of ReportsPort: records calls, can refuse."""

    opened: list[PrivateContact] = field(default_factory=list)
    alerts: list[tuple[int, ContactAlert]] = field(default_factory=list)
    refuse: bool = False
    as_channel: bool = False
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9000))

    async def open_private_contact(self, contact: PrivateContact) -> PrivateSpace:
        if self.refuse:
            raise DiscordActionFailed("Discord said no.")
        self.opened.append(contact)
        return PrivateSpace(channel_id=next(self._ids), is_thread=not self.as_channel)

    async def post_contact_alert(self, channel_id: int, alert: ContactAlert) -> bool:
        self.alerts.append((channel_id, alert))
        return True


async def stored_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log: where any stored text would be."""

    def read() -> bytes:
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())

    return await asyncio.to_thread(read)


@pytest.fixture
def threads() -> ThreadsPort:
    return ThreadsPort()


@pytest.fixture
async def service(db: Database, threads: ThreadsPort, clock: FakeClock) -> ReportsService:
    settings = SettingsRepository(db)
    await settings.set(GUILD, "facilitator_role_id", ROLE, clock.now())
    await settings.set(GUILD, "alerts_channel_id", ALERTS, clock.now())
    return ReportsService(ReportRepository(db), settings, threads, clock)  # type: ignore[arg-type]


def report_of(
    reporter: int, author: int, category: ReportCategory, message: int = 555
) -> ReportRequest:
    return ReportRequest(GUILD, CHANNEL, reporter, message, author, category)


async def test_report_and_ask_open_numbered_spaces_and_alert(
    service: ReportsService, threads: ThreadsPort, db: Database
) -> None:
    opened = await service.report(report_of(BOB, ALICE, ReportCategory.UNKIND))
    assert (opened.number, opened.kind, opened.alerted) == (1, ReportKind.REPORT, True)
    assert not opened.at_risk and opened.space.is_thread
    asked = await service.ask(AskRequest(GUILD, CHANNEL, CAROL, "  Can we talk?  "))
    assert asked.number == 2 and asked.kind is ReportKind.ASK
    report, ask = threads.opened
    assert (report.name, ask.name) == ("private-report-1", "ask-2")
    assert report.facilitator_role_id == ROLE and report.member_id == BOB
    assert (report.reported_author_id, report.reported_message_id) == (ALICE, 555)
    assert ask.question == "Can we talk?" and ask.reported_author_id is None
    assert [(cid, a.number, a.space_id) for cid, a in threads.alerts] == [
        (ALERTS, 1, opened.space.channel_id),
        (ALERTS, 2, asked.space.channel_id),
    ]
    # Another server counts from 1 (and needs its own facilitator role first).
    with pytest.raises(NotAllowed, match="/setup facilitator-role"):
        await service.ask(AskRequest(2, CHANNEL, CAROL, "hi"))
    rows = await db.fetchall("SELECT * FROM reports ORDER BY number")
    assert [(r["kind"], r["category"], r["thread_id"]) for r in rows] == [
        ("report", "unkind", opened.space.channel_id),
        ("ask", None, asked.space.channel_id),
    ]
    assert b"Can we talk" not in await stored_bytes(Path(db.path))


async def test_no_alerts_channel_still_opens(
    db: Database, threads: ThreadsPort, clock: FakeClock
) -> None:
    settings = SettingsRepository(db)
    await settings.set(GUILD, "facilitator_role_id", ROLE, clock.now())
    service = ReportsService(ReportRepository(db), settings, threads, clock)  # type: ignore[arg-type]
    opened = await service.report(report_of(BOB, ALICE, ReportCategory.AT_RISK))
    assert opened.at_risk and not opened.alerted and threads.alerts == []
    assert len(threads.opened) == 1


async def test_discord_refusal_keeps_nothing_and_never_reuses_a_number(
    service: ReportsService, threads: ThreadsPort, db: Database
) -> None:
    threads.refuse = True
    with pytest.raises(DiscordActionFailed):
        await service.ask(AskRequest(GUILD, CHANNEL, CAROL, "hello"))
    assert await db.fetchall("SELECT * FROM reports") == []
    assert threads.alerts == []
    threads.refuse = False
    threads.as_channel = True
    opened = await service.ask(AskRequest(GUILD, CHANNEL, CAROL, "hello"))
    assert opened.number == 2 and not opened.space.is_thread
    (row,) = await db.fetchall("SELECT private_channel FROM reports")
    assert row["private_channel"] == 1


async def test_hourly_limit_per_member(service: ReportsService, clock: FakeClock) -> None:
    for _ in range(3):
        await service.ask(AskRequest(GUILD, CHANNEL, CAROL, "again"))
    with pytest.raises(Conflict, match="last hour"):
        await service.precheck(GUILD, CAROL)
    with pytest.raises(Conflict, match="/crisis"):
        await service.report(report_of(CAROL, ALICE, ReportCategory.SPAM))
    await service.precheck(GUILD, BOB)  # others are not affected
    clock.advance(minutes=61)
    await service.precheck(GUILD, CAROL)
    assert (await service.ask(AskRequest(GUILD, CHANNEL, CAROL, "later"))).number == 4


async def test_refusals_before_anything_is_stored(
    service: ReportsService, threads: ThreadsPort, db: Database
) -> None:
    with pytest.raises(UserFacingError, match="your own message"):
        await service.report(report_of(BOB, BOB, ReportCategory.OTHER))
    with pytest.raises(UserFacingError, match="a few words"):
        await service.ask(AskRequest(GUILD, CHANNEL, CAROL, "   "))
    with pytest.raises(UserFacingError, match="under 1500"):
        await service.ask(AskRequest(GUILD, CHANNEL, CAROL, "x" * 1501))
    assert threads.opened == [] and await db.fetchall("SELECT * FROM reports") == []


async def test_export_and_forget(service: ReportsService, db: Database) -> None:
    await service.report(report_of(BOB, ALICE, ReportCategory.UNKIND, message=1))
    await service.report(report_of(ALICE, CAROL, ReportCategory.SPAM, message=2))
    await service.ask(AskRequest(GUILD, CHANNEL, BOB, "hi"))
    exported = (await service.export_user_data(BOB))["reports_and_asks_opened"]
    assert [(e["number"], e["kind"], e["reported_author_id"]) for e in exported] == [
        (1, "report", ALICE),
        (3, "ask", None),
    ]
    # Alice made report 2 and was reported in report 1: she sees only what she opened.
    assert [
        e["number"] for e in (await service.export_user_data(ALICE))["reports_and_asks_opened"]
    ] == [2]
    assert await service.delete_user_data(ALICE) == 2  # her report deleted, her link cleared
    rows = await db.fetchall(
        "SELECT number, reporter_id, reported_author_id, reported_message_id FROM reports ORDER BY number"
    )
    assert [tuple(r) for r in rows] == [(1, BOB, None, None), (3, BOB, None, None)]
    assert await service.delete_user_data(BOB) == 2
    assert await db.fetchall("SELECT * FROM reports") == []
    assert await service.export_user_data(BOB) == {"reports_and_asks_opened": []}


def test_what_the_thread_and_alert_say() -> None:
    contact = PrivateContact(
        guild_id=GUILD,
        channel_id=CHANNEL,
        name="private-report-7",
        number=7,
        kind="report",
        member_id=BOB,
        facilitator_role_id=ROLE,
        category="at_risk",
        reported_author_id=ALICE,
        reported_message_id=555,
    )
    text = opening_text(contact, is_thread=True)
    assert text.startswith(f"<@&{ROLE}>") and "Someone may be at risk" in text
    assert f"https://discord.com/channels/{GUILD}/{CHANNEL}/555" in text
    assert "crisis lines" in text and "this thread" in text
    alert = alert_text(ContactAlert(GUILD, 7, "report", "at_risk", 9000))
    assert "<#9000>" in alert and "<@" not in alert and "#7" in alert
    ask = PrivateContact(GUILD, CHANNEL, "ask-8", 8, "ask", CAROL, ROLE, question="@here hi")
    assert "@here" not in question_text(ask) and "hi" in question_text(ask)
    assert "this channel" in opening_text(ask, is_thread=False)
