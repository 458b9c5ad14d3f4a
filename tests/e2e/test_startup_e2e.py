"""Start-up keeps the event loop free and does not wait for what it does not need (issue
15: no stall over 50 ms, ready in under a second): the safety watch's phrase list,
hundreds of patterns to compile, and Babel's date names are built in worker threads once
the bot is ready (the commands are synced by then), and the watch then reads with what the
worker built. The first reminder planning pass, whose cost grows with the database, begins
only once the bot is ready and its warm-up is over, and still catches up what fell due
while it was down."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import familybot.warm_up as warm_up_module
from familybot import i18n
from familybot.bot import FamilyBot
from familybot.scheduler.reminders import ReminderScheduler
from tests.e2e.harness import World, eventually, rows
from tests.e2e.test_sessions_e2e import (
    at,
    reminders_in,
    schedule_weekly,
    session_day,
    setup_group,
    start_of,
    wake,
)
from tests.support.fake_discord import FakeDiscord


async def test_the_phrase_list_and_dates_are_built_off_the_loop_after_start_up(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[tuple[str, str, bool]] = []  # (what, thread, commands synced by then)
    real_detector, real_dates = warm_up_module.bot_detector, i18n.warm_dates

    def synced() -> bool:
        return any(
            r.method == "PUT" and r.path.endswith("/commands") for r in fake_discord.requests
        )

    def recording_detector() -> object:
        built.append(("phrases", threading.current_thread().name, synced()))
        return real_detector()

    def recording_dates() -> None:
        built.append(("dates", threading.current_thread().name, synced()))
        real_dates()

    monkeypatch.setattr(warm_up_module, "bot_detector", recording_detector)
    monkeypatch.setattr(i18n, "warm_dates", recording_dates)
    world = World(fake=fake_discord, tmp=tmp_path)
    world.populate()
    bot = await world.start_bot()
    try:
        await bot.warm_up.wait()
        detector = bot.safety.watch.phrases
        # The watch reads in a worker thread; it gets the phrase list the worker built.
        assert await asyncio.to_thread(detector.matches, "i want to kill myself")
        assert not await asyncio.to_thread(detector.matches, "see you all on tuesday")
        assert sorted(what for what, _, _ in built) == ["dates", "phrases"]
        for what, thread, after_sync in built:
            assert thread != threading.main_thread().name, what
            assert after_sync, f"{what} was built while start-up still ran"
    finally:
        await world.stop_bot()


async def test_the_first_planning_pass_begins_after_ready_and_catches_up_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = await setup_group(world)
    day = session_day()
    start = start_of(day)
    await schedule_weekly(world, day)
    await world.stop_bot()
    order: list[tuple[str, int]] = []  # (what, the ledger's rows then)
    real_ready, real_plan = FamilyBot.on_ready, ReminderScheduler.plan_and_schedule

    async def ledger_rows() -> int:
        return len(await rows(world, "SELECT id FROM reminder_ledger"))

    async def on_ready(self: FamilyBot) -> None:
        order.append(("ready", await ledger_rows()))
        await real_ready(self)

    async def plan_and_schedule(self: ReminderScheduler) -> Any:
        assert world.bot is not None
        warmed = world.bot.warm_up._task is not None and world.bot.warm_up._task.done()
        order.append(("plan" if warmed else "plan beside the warm-up", await ledger_rows()))
        return await real_plan(self)

    # The warm-up's phrase list is built only when the test says so.
    release, real_detector = threading.Event(), warm_up_module.bot_detector

    def held_detector() -> object:
        release.wait(10)
        return real_detector()

    monkeypatch.setattr(FamilyBot, "on_ready", on_ready)
    monkeypatch.setattr(ReminderScheduler, "plan_and_schedule", plan_and_schedule)
    monkeypatch.setattr(warm_up_module, "bot_detector", held_detector)
    # Down over the day-before reminder's instant (planned only 30 min ahead: not in the
    # ledger when the bot stopped); back 2 minutes after it.
    with at(start - timedelta(hours=24) + timedelta(minutes=2)):
        bot = await world.start_bot()
        await bot.warm_up._begun.wait()  # on_ready has run
        assert not bot.planning_may_start.is_set()  # the warm-up is still building
        release.set()
        assert bot.reminder_scheduler.first_pass is not None
        await asyncio.wait_for(bot.reminder_scheduler.first_pass, 10)
        await wake(world)
        await eventually(lambda: reminders_in(world, channel))
        await world.restart()  # and once more: nothing twice
        assert bot.reminder_scheduler.first_pass.done()
        await wake(world)
    assert [what for what, _ in order[:2]] == ["ready", "plan"]
    assert order[0][1] == order[1][1] == 0  # the missed reminder was planned by the pass
    assert len(reminders_in(world, channel)) == 1
