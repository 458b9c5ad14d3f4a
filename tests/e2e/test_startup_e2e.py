"""Start-up keeps the event loop free and does not wait for what it does not need (issue
15: no stall over 50 ms, ready in under a second): the safety watch's phrase list,
hundreds of patterns to compile, and Babel's date names are built in worker threads once
the bot is ready (the commands are synced by then), and the watch then reads with what the
worker built."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

import familybot.warm_up as warm_up_module
from familybot import i18n
from tests.e2e.harness import World
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
