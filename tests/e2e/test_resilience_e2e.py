"""Resilience against Discord and the disk: the real bot against the fake Discord.

Gateway RECONNECT / INVALID_SESSION / a dropped socket; 429 with Retry-After (per route and
global); 5xx, including one that arrives after the message was in fact created; and a locked
or full database. After each: the bot still answers, still sends a due reminder, and
nothing is sent twice or lost.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from familybot.db import sqlite as connection_module
from familybot.tree import DATABASE_BUSY
from tests.e2e.harness import World, eventually, read_sync, text_of
from tests.e2e.test_sessions_e2e import (
    at,
    reminders_in,
    rows,
    schedule_weekly,
    session_day,
    setup_group,
    start_of,
    wake,
)
from tests.support.fake_discord import FakeDiscord

CALLBACK = r"/interactions/\d+/[^/]+/callback"
RETRY_AFTER = 0.3


def resumes(fake: FakeDiscord) -> int:
    return sum(1 for op in fake.gateway_ops if op.get("op") == 6)


async def answers_crisis(world: World) -> None:
    h = await world.run(world.alice, "crisis")
    assert h.ephemeral and "988" in text_of(h.callback)


def assert_nothing_twice(world: World) -> None:
    """No interaction answered twice, no channel message with a repeated nonce."""
    assert not [r for r in world.fake.requests if r.status == 400 and "/callback" in r.path]
    nonces = [
        (r.path, r.json_body.get("nonce"))
        for r in world.fake.requests_to("POST", r"/channels/\d+/messages")
        if r.status == 200 and r.json_body.get("nonce")
    ]
    stored = [(cid, m.get("nonce")) for cid, msgs in world.fake.messages.items() for m in msgs]
    stored_nonces = [n for _, n in stored if n]
    assert len(stored_nonces) == len(set(stored_nonces)), "a message was created twice"
    assert nonces  # the reminder did go out


async def _reconnect(fake: FakeDiscord) -> None:
    await fake.send_reconnect()


async def _invalid_resumable(fake: FakeDiscord) -> None:
    await fake.invalidate_session(resumable=True)


async def _invalid_new_session(fake: FakeDiscord) -> None:
    await fake.invalidate_session(resumable=False)


async def _dropped(fake: FakeDiscord) -> None:
    await fake.drop_connection(4000)


@pytest.mark.parametrize(
    ("trigger", "expect"),
    [
        (_reconnect, "resume"),
        (_invalid_resumable, "resume"),
        (_invalid_new_session, "identify"),
        (_dropped, "resume"),
    ],
    ids=["reconnect", "invalid-session-resumable", "invalid-session", "dropped-socket"],
)
async def test_gateway_trouble_is_survived(
    world: World, trigger: Callable[[FakeDiscord], Awaitable[None]], expect: str
) -> None:
    fake = world.fake
    channel = await setup_group(world)
    day = session_day()
    start = start_of(day)
    await schedule_weekly(world, day)
    identifies, resumed = len(fake.identify_payloads), resumes(fake)

    await trigger(fake)
    if expect == "resume":
        await eventually(lambda: resumes(fake) > resumed and fake.connected, timeout=8)
        assert len(fake.identify_payloads) == identifies  # resumed, not a new session
    else:
        await eventually(
            lambda: len(fake.identify_payloads) > identifies and fake.connected, timeout=8
        )
        assert world.bot is not None
        await eventually(world.bot.is_ready, timeout=8)

    await answers_crisis(world)
    with at(start - timedelta(hours=24)):
        await wake(world)
        await eventually(lambda: reminders_in(world, channel))
        await wake(world)
    assert len(reminders_in(world, channel)) == 1
    assert_nothing_twice(world)


# --- 429: Retry-After is respected -----------------------------------------------------------


def _limited(scope: str) -> tuple[dict[str, object], dict[str, str]]:
    is_global = scope == "global"
    body = {
        "message": "You are being rate limited.",
        "retry_after": RETRY_AFTER,
        "global": is_global,
    }
    headers = {
        "Retry-After": "1",  # whole seconds, as Discord sends it; the body has the precise value
        "X-RateLimit-Scope": scope,
        "Via": "1.1 google",
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    else:
        headers |= {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "1700000000.300",
            "X-RateLimit-Reset-After": str(RETRY_AFTER),
            "X-RateLimit-Bucket": "b0a5a0d1e8f1c0de",
        }
    return body, headers


async def test_rate_limited_reply_waits_retry_after_and_arrives_once(world: World) -> None:
    body, headers = _limited("user")
    world.fake.fail_next("POST", CALLBACK, status=429, body=body, headers=headers)
    await answers_crisis(world)
    first, second = world.fake.requests_to("POST", CALLBACK)[-2:]
    assert (first.status, second.status) == (429, 204) or second.status == 200
    assert second.at - first.at >= RETRY_AFTER - 0.01, second.at - first.at
    h = next(iter(world.fake.interactions.values()))
    assert [r["kind"] for r in h.responses] == ["callback"]


async def test_globally_rate_limited_reminder_waits_and_is_sent_once(world: World) -> None:
    channel = await setup_group(world)
    day = session_day()
    start = start_of(day)
    await schedule_weekly(world, day)
    body, headers = _limited("global")
    path = rf"/channels/{channel}/messages"
    world.fake.fail_next("POST", path, status=429, body=body, headers=headers)
    with at(start - timedelta(hours=24)):
        await wake(world)
        await eventually(lambda: reminders_in(world, channel))
    attempts = world.fake.requests_to("POST", path)
    assert [r.status for r in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= RETRY_AFTER - 0.01
    assert len(reminders_in(world, channel)) == 1
    await eventually(lambda: [s["state"] for s in states_now(world)] == ["sent"])


# --- 5xx: retried, never duplicated ----------------------------------------------------------


async def test_reminder_5xx_after_the_message_was_created_leaves_one_message(
    world: World,
) -> None:
    channel = await setup_group(world)
    day = session_day()
    start = start_of(day)
    await schedule_weekly(world, day)
    path = rf"/channels/{channel}/messages"
    # Discord stored the message, then answered 500: discord.py retries with the same nonce.
    world.fake.fail_next("POST", path, status=500, after_handling=True)
    with at(start - timedelta(hours=24)):
        await wake(world)
        await eventually(lambda: len(world.fake.requests_to("POST", path)) >= 2, timeout=6)
        await eventually(lambda: "sent" in [s["state"] for s in states_now(world)], timeout=6)
    attempts = world.fake.requests_to("POST", path)
    assert [r.status for r in attempts] == [500, 200]
    assert attempts[0].json_body["nonce"] == attempts[1].json_body["nonce"]
    assert attempts[1].json_body["enforce_nonce"] is True
    assert len(reminders_in(world, channel)) == 1  # without the nonce this would be 2


def states_now(world: World) -> list[dict[str, object]]:
    return [{"state": s} for (s,) in read_sync(world, "SELECT state FROM reminder_ledger")]


async def test_command_reply_after_a_502_is_retried_and_arrives_once(world: World) -> None:
    world.fake.fail_next("POST", CALLBACK, status=502)
    h = await world.fake.slash(world.guild_id, world.alice, "crisis")
    await h.wait_response(timeout=6)
    assert h.ephemeral and "988" in text_of(h.callback)
    assert [r.status for r in world.fake.requests_to("POST", CALLBACK)] in ([502, 200], [502, 204])
    assert [r["kind"] for r in h.responses] == ["callback"]


# --- a locked or full database ---------------------------------------------------------------


@pytest.fixture
async def quick_world(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    """A configured server whose bot gives up on a locked database after 0.2 s."""
    monkeypatch.setattr(connection_module, "BUSY_TIMEOUT_MS", 200)
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    await w.start_bot()
    await w.configure()
    yield w
    await w.stop_bot()


def db_lines(caplog: pytest.LogCaptureFixture, kind: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if f"database {kind}" in r.getMessage()]


async def faq_count(world: World) -> int:
    return len(await rows(world, "SELECT id FROM faq"))


@pytest.mark.sqlite_only  # another process's BEGIN EXCLUSIVE and SQLite's busy timeout
async def test_locked_database_gives_a_kind_reply_and_one_log_line(
    quick_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    w = quick_world
    caplog.set_level(logging.INFO)
    question, answer = "Where do we meet?", "In the group's channel."
    other = sqlite3.connect(w.db_path, isolation_level=None, timeout=5, check_same_thread=False)
    # Another process (a backup, the sqlite3 shell) takes the lock; off the loop, so the
    # bot can finish whatever it is writing first.
    await asyncio.to_thread(other.execute, "BEGIN EXCLUSIVE")
    try:
        h = await w.run(w.facilitator, "faq", "add", question=question, answer=answer)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert h.ephemeral and h.content == DATABASE_BUSY
    (line,) = db_lines(caplog, "locked")
    text = line.getMessage()
    assert "'faq add'" in text and f"guild={w.guild_id}" in text and f"user={w.facilitator}" in text
    assert question not in text and answer not in text and line.exc_info is None
    assert await faq_count(w) == 0

    again = await w.run(w.facilitator, "faq", "add", question=question, answer=answer)
    assert again.ephemeral and "Done" in (again.content or "")
    assert await faq_count(w) == 1


@pytest.mark.sqlite_only  # a full disk made with SQLite's max_page_count
async def test_full_disk_gives_a_kind_reply_and_nothing_is_half_saved(
    quick_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    w = quick_world
    assert w.bot is not None
    caplog.set_level(logging.INFO)
    conn = w.bot.db.connection
    pages = (await conn.execute_fetchall("PRAGMA page_count"))[0][0]
    await conn.execute(f"PRAGMA max_page_count = {int(pages)}")  # the disk is now "full"
    question = "What should I bring to my first family session at the program, and when?"
    answer = "Just yourself. " * 260  # needs a new page
    h = await w.run(w.facilitator, "faq", "add", question=question, answer=answer[:4000])
    assert h.ephemeral and h.content == DATABASE_BUSY
    assert len(db_lines(caplog, "full")) == 1
    assert await faq_count(w) == 0

    await conn.execute("PRAGMA max_page_count = 1073741823")  # space freed
    again = await w.run(w.facilitator, "faq", "add", question=question, answer=answer[:4000])
    assert again.ephemeral and "Done" in (again.content or "")
    assert await faq_count(w) == 1
