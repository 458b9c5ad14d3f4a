"""A pg_dump / pg_restore cut off (the bot stopping mid-backup) is ended and waited for on
its own loop: nothing is left for a closed loop to clean up ("Event loop is closed",
which pytest reported against whichever test ran next)."""

from __future__ import annotations

import asyncio
import gc
import sys
from typing import Any

import pytest

from familybot import backup_pg


def test_a_tool_cut_off_is_ended_and_leaves_nothing_to_a_closed_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    started = asyncio.Event()
    procs: list[asyncio.subprocess.Process] = []
    real = asyncio.create_subprocess_exec

    async def spawn(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        proc = await real(*args, **kwargs)
        procs.append(proc)
        started.set()
        return proc

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spawn)

    async def main() -> None:
        slow = [sys.executable, "-c", "import time; time.sleep(60)"]
        task = asyncio.create_task(backup_pg._run(slow))
        await started.wait()
        await asyncio.sleep(0)  # into communicate()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    (proc,) = procs
    assert proc.returncode is not None  # the tool was ended, not left running
    procs.clear()
    del proc
    gc.collect()
    assert unraisable == []
