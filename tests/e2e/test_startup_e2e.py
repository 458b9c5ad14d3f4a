"""Start-up keeps the event loop free (issue 15: no stall over 50 ms): the safety watch's
phrase list, hundreds of patterns to compile, is built in a worker thread."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import familybot.bot as bot_module
from tests.e2e.harness import World
from tests.support.fake_discord import FakeDiscord


async def test_the_phrase_list_is_compiled_off_the_event_loop(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built_in: list[str] = []
    real = bot_module.bot_detector
    made: list[object] = []

    def recording() -> object:
        built_in.append(threading.current_thread().name)
        made.append(real())
        return made[-1]

    monkeypatch.setattr(bot_module, "bot_detector", recording)
    world = World(fake=fake_discord, tmp=tmp_path)
    world.populate()
    bot = await world.start_bot()
    try:
        assert len(built_in) == 1
        assert built_in[0] != threading.main_thread().name
        assert bot.safety.watch.phrases is made[0]  # the watch uses what the worker built
    finally:
        await world.stop_bot()
