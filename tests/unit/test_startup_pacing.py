"""Start-up REST calls take the reminders' pace slots (issue 16), on virtual loop time.

A stand-in for discord.py's HTTPClient records when each request reached it; the limiter
is the one reminders use (familybot/ratelimit.py).
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import looptime

from familybot.discord.pacing import StartupPacing
from familybot.ratelimit import SlidingWindowLimiter
from tests.unit.test_ratelimit import busiest_window

MESSAGES = SimpleNamespace(path="/channels/{channel_id}/messages")
COMMANDS = SimpleNamespace(path="/applications/{application_id}/guilds/{guild_id}/commands")
CALLBACK = SimpleNamespace(path="/interactions/{interaction_id}/{interaction_token}/callback")


class Http:
    """Answers at once; notes the loop time and route of each request."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str]] = []

    async def request(self, route: Any, **kwargs: Any) -> Any:
        self.seen.append((asyncio.get_running_loop().time(), route.path))
        return {}


def run(test: Any) -> None:
    loop = looptime.new_event_loop(start=0.0, _enabled=True)
    try:
        loop.run_until_complete(test())
    finally:
        loop.close()


def test_start_up_calls_keep_to_the_limiter_and_interaction_answers_do_not_wait() -> None:
    async def scenario() -> None:
        http, limiter = Http(), SlidingWindowLimiter(3)
        pacing = StartupPacing(http, limiter)
        calls = [http.request(MESSAGES) for _ in range(8)] + [http.request(COMMANDS)]
        paced = asyncio.gather(*calls)
        await asyncio.sleep(0)
        await http.request(CALLBACK)  # a person waits for this one: not queued
        await paced
        stamps = [t for t, path in http.seen if path != CALLBACK.path]
        assert busiest_window(stamps) <= 3, stamps
        assert max(stamps) >= 2.0  # nine requests at 3/s: spread over seconds
        callback = [t for t, path in http.seen if path == CALLBACK.path]
        assert callback == [0.0]
        # Start-up over: requests go at once again.
        pacing.stop()
        http.seen.clear()
        now = asyncio.get_running_loop().time()
        await asyncio.gather(*(http.request(MESSAGES) for _ in range(8)))
        assert [t for t, _ in http.seen] == [now] * 8

    run(scenario)


def test_a_request_inside_a_reminder_s_slot_takes_no_second_slot() -> None:
    """A reminder send holds its slot around the request: the request must not wait for
    another (with a limit of 1 it would wait for ever)."""

    async def scenario() -> None:
        http, limiter = Http(), SlidingWindowLimiter(1)
        StartupPacing(http, limiter)
        async with limiter.slot():
            await asyncio.wait_for(http.request(MESSAGES), timeout=5)
        assert [t for t, _ in http.seen] == [0.0]
        assert not limiter.held()

    run(scenario)


def test_until_ready_start_up_calls_go_ahead_of_a_reminder_backlog() -> None:
    """After a downtime the reminders due meanwhile are sent at start: the bot's own calls
    (the command sync, the Gateway's address) must not wait behind them for ready (issue 15:
    32 overdue sends put off the Gateway's address 0.19 s). Still within the limit."""

    async def scenario() -> None:
        http, limiter = Http(), SlidingWindowLimiter(3)
        pacing = StartupPacing(http, limiter)

        async def send() -> None:  # as a reminder is sent: inside a slot of its own
            async with limiter.slot():
                await http.request(MESSAGES)

        backlog = [asyncio.create_task(send()) for _ in range(9)]
        await asyncio.sleep(0)  # all of them waiting in line
        await http.request(COMMANDS)
        synced = asyncio.get_running_loop().time()
        sends = [t for t, path in http.seen if path == MESSAGES.path]
        assert synced <= 1 / 3 + 1e-6, (synced, sends)  # the next slot, not the tenth
        assert len(sends) <= 2
        await asyncio.gather(*backlog)
        assert busiest_window([t for t, _ in http.seen]) <= 3, http.seen

        # Ready: later start-up calls (the group access upgrade) wait in line again.
        pacing.ready()
        http.seen.clear()
        backlog = [asyncio.create_task(send()) for _ in range(6)]
        await asyncio.sleep(0)
        await http.request(COMMANDS)
        sends = [t for t, path in http.seen if path == MESSAGES.path]
        assert len(sends) == 6, http.seen
        await asyncio.gather(*backlog)

    run(scenario)
