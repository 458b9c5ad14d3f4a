"""Logs at INFO and above never say who is in which group, not even by id (issue 10, item 6).

The group flows run end to end with every log record captured at INFO; a generic check then
looks at each record's message and arguments for a member's id next to anything that names
a group: its id, its channel's or role's id, or one of its session series' ids."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.e2e.harness import World, custom_ids, eventually, open_database, rows, text_of
from tests.support.fake_discord import FakeDiscord

NY = ZoneInfo("America/New_York")
USER_SELECT = 5
# Ids far from any count or small number a log line might also carry, so a match means the id.
FIRST_GROUP_ID = 3_900_000_000
FIRST_SERIES_ID = 3_950_000_000
_NUMBER = re.compile(r"\d+")


@contextlib.contextmanager
def at(instant: datetime) -> Iterator[None]:
    with time_machine.travel(instant, tick=False):
        yield


def numbers_in(record: logging.LogRecord) -> set[str]:
    """Every number a record carries: in its text, its arguments, its formatted message."""
    parts = [str(record.msg), record.getMessage()]
    args = record.args if isinstance(record.args, tuple) else (record.args,)
    parts += [repr(a) for a in args or ()]
    return set(_NUMBER.findall(" ".join(parts)))


def pairings(
    records: list[logging.LogRecord], people: set[int], groups: dict[int, set[int]]
) -> list[str]:
    """Records at INFO or above with a person's id and a group's identifier together."""
    found = []
    for record in records:
        if record.levelno < logging.INFO:
            continue
        numbers = numbers_in(record)
        who = {p for p in people if str(p) in numbers}
        which = {g for g, ids in groups.items() if {str(i) for i in ids} & numbers}
        if who and which:
            found.append(f"{record.levelname} {record.name}: {record.getMessage()[:200]}")
    return found


def test_the_check_catches_a_pairing() -> None:
    record = logging.LogRecord(
        "x",
        logging.INFO,
        "f",
        1,
        "member seated group=%d user=%d",
        (
            FIRST_GROUP_ID + 1,
            42,
        ),
        None,
    )
    assert pairings([record], {42}, {FIRST_GROUP_ID + 1: {FIRST_GROUP_ID + 1}})
    record.levelno = logging.DEBUG
    assert not pairings([record], {42}, {FIRST_GROUP_ID + 1: {FIRST_GROUP_ID + 1}})


async def press(w: World, user: int, custom_id: str, channel: int | None = None) -> Any:
    h = await w.fake.click(
        w.guild_id, user, custom_id, message_id=w.fake.next_id(), channel_id=channel
    )
    await h.wait_response()
    return h


async def join(w: World, user: int, name: str) -> Any:
    h = await w.run(user, "group", "join", name=name)
    return await press(w, user, custom_ids(h.callback)[0])


async def decide(w: World, user: int, action: str) -> None:
    alert = await eventually(
        lambda: [m for m in w.fake.messages_in(w.alerts_channel) if f"<@{user}>" in m["content"]]
    )
    chosen = next(c for c in custom_ids(alert[-1]) if c.endswith(action))
    await press(w, w.facilitator, chosen, w.alerts_channel)


@pytest.mark.asyncio
async def test_group_flows_log_no_membership_at_info(
    fake_discord: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    await w.start_bot()
    db = await open_database(w)
    try:  # placeholders, so the groups and series made below get distinctive ids
        await db.execute(
            "INSERT INTO groups (id, guild_id, name, name_key, description, focus, join_mode, "
            "guidelines, created_by, created_at, status) VALUES (?, ?, 'old', 'old', 'd', 'f', "
            "'open', 'g', 0, 0, 'archived')",
            (FIRST_GROUP_ID, w.guild_id),
        )
        await db.execute(
            "INSERT INTO session_series (id, group_id, guild_id, title, tz, first_local, repeat,"
            " duration_minutes, created_by, created_at, planned_until, status) VALUES "
            "(?, ?, ?, 'old', 'UTC', '2020-01-01T10:00', 'once', 60, 0, 0, 0, 'cancelled')",
            (FIRST_SERIES_ID, FIRST_GROUP_ID, w.guild_id),
        )
        if w.database_url is not None:  # explicit ids move SQLite's counter, not PostgreSQL's
            for table in ("groups", "session_series"):
                await db.fetchval(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
    finally:
        await db.close()
    caplog.set_level(logging.INFO)
    try:
        await w.configure()
        for name, mode in (("Parents Circle", "open"), ("Siblings Circle", "approval")):
            await w.run_to_end(
                w.facilitator,
                "group",
                "create",
                name=name,
                description="A circle",
                focus="families",
                join_mode=mode,
                capacity=1,
            )
        # Open group: seat, waitlist, leave (the waitlist moves on, told by DM), remove.
        await join(w, w.alice, "Parents Circle")
        await join(w, w.bob, "Parents Circle")
        await w.run(w.alice, "group", "leave", name="Parents Circle")
        await eventually(lambda: w.fake.dms_to(w.bob))
        await join(w, w.alice, "Parents Circle")  # waitlisted behind bob
        await w.run(w.facilitator, "group", "remove", member=w.bob, name="Parents Circle")
        # Approval group: request, approve; another request, deny; the removed one returns.
        await join(w, w.carol, "Siblings Circle")
        await decide(w, w.carol, "approve")
        await join(w, w.bob, "Siblings Circle")
        await decide(w, w.bob, "deny")
        await join(w, w.bob, "Parents Circle")
        await decide(w, w.bob, "deny")
        # A session: reminders by DM, an RSVP, attendance.
        day = (datetime.now(NY) + timedelta(days=5)).date()
        start = datetime.combine(day, datetime.min.time().replace(hour=18), NY).astimezone(UTC)
        h = await w.run(
            w.facilitator,
            "session",
            "schedule",
            group="Parents Circle",
            title="Weekly check-in",
            date=day.isoformat(),
            time="18:00",
            repeat="weekly",
            duration=60,
        )
        assert "Scheduled" in h.content, h.content
        await w.run(w.alice, "my", "reminders", dm="on")
        with at(start - timedelta(hours=24)):
            assert w.bot is not None
            w.bot.scheduler.wakeup()
            await eventually(lambda: any("Reminder" in text_of(m) for m in w.fake.dms_to(w.alice)))
        series = (await rows(w, "SELECT id FROM session_series WHERE title != 'old'"))[0]["id"]
        await press(w, w.alice, f"fb:rsvp:{series}:{day.isoformat()}:going")
        sel = await w.fake.select(
            w.guild_id,
            w.facilitator,
            f"fb:attend:{series}:{day.isoformat()}",
            [w.alice],
            component_type=USER_SELECT,
            message_id=w.fake.next_id(),
        )
        await sel.wait_response()
        # Someone forgets everything.
        h = await w.run(w.carol, "my", "forget")
        confirm_id, _cancel = custom_ids(h.callback)
        message_id = int(h.original_message["id"])
        click = await w.fake.click(w.guild_id, w.carol, confirm_id, message_id=message_id)
        await click.wait_response()
        await eventually(lambda: "Done." in str(w.fake.find_message(h.channel_id, message_id)))
        await w.run(w.alice, "group", "leave", name="Parents Circle")
    finally:
        await w.stop_bot()

    assert await rows(w, "SELECT * FROM attendance")  # the flows really ran
    assert await rows(w, "SELECT * FROM memberships WHERE user_id = ?", w.carol) == []
    groups: dict[int, set[int]] = {}
    for g in await rows(w, "SELECT id, role_id, channel_id FROM groups"):
        groups[g["id"]] = {v for v in (g["id"], g["role_id"], g["channel_id"]) if v}
    for s in await rows(w, "SELECT id, group_id FROM session_series"):
        groups[s["group_id"]].add(s["id"])
    # Everyone: members, and the facilitator and admin too (running a group says who is in it).
    people = {w.alice, w.bob, w.carol, w.facilitator, w.admin}
    found = pairings(caplog.records, people, groups)
    assert not found, "membership at INFO:\n" + "\n".join(found)
    # A facilitator's id stands for the group they run: next to a member's id it says the same.
    runs_the_group = {0: {w.facilitator}}
    found = pairings(caplog.records, {w.alice, w.bob, w.carol}, runs_the_group)
    assert not found, "member next to their facilitator at INFO:\n" + "\n".join(found)
    assert await rows(w, "SELECT * FROM join_reviews")  # the removal and denials happened
