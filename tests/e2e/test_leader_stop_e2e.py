"""A clean stop and the database-wide jobs (issue 16): the real bot's close gives a job under
way its grace (familybot/scheduler/leader.py Leadership.stop) before the scheduler, the lead
and the database go, so the run ends and is stamped, rather than being cut or running on
against a closed database."""

from __future__ import annotations

import asyncio

import pytest
from apscheduler.triggers.cron import CronTrigger

from tests.e2e.harness import World, eventually

pytestmark = pytest.mark.asyncio


async def test_a_clean_stop_lets_a_running_global_job_end_first(world: World) -> None:
    bot = world.bot
    assert bot is not None and await bot.leadership.tick()
    started, release, ended = asyncio.Event(), asyncio.Event(), []

    async def job() -> None:
        started.set()
        await release.wait()
        ended.append(True)

    bot.leadership.add("probe", job, CronTrigger(year=2099))
    run = asyncio.create_task(bot.leadership.only_leader("probe", job)())
    await started.wait()
    stopping = asyncio.create_task(world.stop_bot())
    await eventually(lambda: bot.leadership._stopping)
    await asyncio.sleep(0)
    assert not stopping.done()  # waiting for the job, within its grace
    release.set()
    await stopping
    assert ended == [True] and run.done() and run.exception() is None  # stamped, not cut
